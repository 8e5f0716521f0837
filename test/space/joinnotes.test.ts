/**
 * Joining fetches the team's sync points (black-box tester, stop 31, finding 1): a fresh clone has no git
 * notes, so every commit made while ctxsync ran looked new to the live context, and a joiner's `git checkout
 * -m main` took a teammate's commit in whole over the live text — a value changed live since rolled back on
 * every peer, with no record. `startJoining` (init --join, or `sync` creating this machine's state) fetches
 * every remote's notes and merges them; a remote out of reach is skipped.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { startJoining } from '../../src/space/join.js'

const tmp: string[] = []
afterAll(async () => { for (const d of tmp) await fs.rm(d, { recursive: true, force: true }) })
const git = (cwd: string, args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

it('a clone that joins gets the sync points its remote holds; an unreachable remote is skipped', async () => {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-joinnotes-')))
  tmp.push(dir)
  const origin = path.join(dir, 'origin.git')
  git(dir, ['init', '-q', '--bare', origin])
  const a = path.join(dir, 'a')
  git(dir, ['clone', '-q', origin, a])
  await fs.mkdir(path.join(a, '.rhema'))
  await fs.writeFile(path.join(a, '.rhema/todos.yaml'), 'todos: []\n')
  git(a, ['add', '-A'])
  git(a, ['commit', '-qm', 'c1'])
  git(a, ['notes', '--ref=refs/notes/ctxsync', 'add', '-m', 'a sync point', 'HEAD'])
  git(a, ['push', '-q', 'origin', 'main', 'refs/notes/ctxsync'])
  const b = path.join(dir, 'b')
  git(dir, ['clone', '-q', origin, b])
  git(b, ['remote', 'add', 'gone', path.join(dir, 'no-such-remote.git')])
  expect(() => git(b, ['notes', '--ref=refs/notes/ctxsync', 'show', 'HEAD'])).toThrow()
  await startJoining(b)
  expect(git(b, ['notes', '--ref=refs/notes/ctxsync', 'show', 'HEAD'])).toBe('a sync point\n')
})

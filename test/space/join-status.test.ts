/**
 * `ctxsync status` in a checkout older than the commit that added ctxsync.yaml (issue 13): it said "no ctxsync
 * space … run `ctxsync init` first", and that init asked for a join code. It says what `sync` says there
 * (6e5239f): the checkout predates the space, join it from here or check out a commit that has it.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { status } from '../../src/commands/status.js'

const tmp: string[] = []
afterAll(async () => { for (const d of tmp) await fs.rm(d, { recursive: true, force: true }) })
const git = (cwd: string, args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', '-c', 'core.hooksPath=/dev/null', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

it('status at a commit from before ctxsync.yaml says the checkout predates the space, and both ways out', async () => {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-joinstatus-')))
  tmp.push(dir)
  git(dir, ['init', '-q'])
  await fs.mkdir(path.join(dir, '.rhema'))
  await fs.writeFile(path.join(dir, '.rhema/todos.yaml'), 'todos: []\n')
  git(dir, ['add', '-A'])
  git(dir, ['commit', '-qm', 'context before the space'])
  const first = git(dir, ['rev-parse', 'HEAD']).trim()
  await fs.writeFile(path.join(dir, 'ctxsync.yaml'), 'space: s-older123\ntrack:\n  - .rhema/**/*.yaml\n')
  git(dir, ['add', '-A'])
  git(dir, ['commit', '-qm', 'ctxsync'])
  git(dir, ['checkout', '-q', first])
  const err = await status({ cwd: path.join(dir, '.rhema') }).then(() => null, (e: Error) => e)
  expect(err?.message).toContain('is older than ctxsync.yaml: space s-older123 was set up in a later commit')
  expect(err?.message).toContain('`ctxsync init --join CODE`')
  expect(err?.message).toContain('`git checkout main`')
  expect((err as { code?: string }).code).toBe('not-initialized')
  expect(git(dir, ['status', '--porcelain', '--ignored'])).toBe('')
})

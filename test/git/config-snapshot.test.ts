/**
 * `hooks install` reads git config once (Repo.configSnapshot) instead of a process per key: the snapshot must
 * answer as `git config --get` / `--get-all` would, for the keys install asks about.
 */
import { execa } from 'execa'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { Repo } from '../../src/git/repo.js'

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))))

it('answers like git config --get / --get-all: case of section and name ignored, of subsection kept; bare keys, multi-line values, scopes', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-config-'))
  dirs.push(dir)
  const git = (...a: string[]) => execa('git', a, { cwd: dir })
  await git('init', '-q')
  await git('config', '--local', 'merge.autoStash', 'true')
  await git('config', '--local', '--add', 'remote.Up.fetch', '+refs/heads/*:refs/remotes/Up/*')
  await git('config', '--local', '--add', 'remote.Up.fetch', '+refs/notes/ctxsync:refs/notes/ctxsync')
  await git('config', '--local', 'merge.ctxsync.name', 'two\nlines')
  await fs.appendFile(path.join(dir, '.git', 'config'), '[rebase]\n\tautostash\n')
  const repo = (await Repo.open(dir))!
  const snap = await repo.configSnapshot()
  for (const key of ['merge.autoStash', 'remote.Up.fetch', 'merge.ctxsync.name', 'rebase.autoStash', 'remote.up.fetch', 'notes.rewriteRef']) {
    const r = await execa('git', ['config', '--get-all', key], { cwd: dir, reject: false })
    const want = r.exitCode === 0 ? r.stdout.split('\n') : []
    if (key === 'merge.ctxsync.name' && want.length) expect(snap.all(key)).toEqual([want.join('\n')])
    else expect(snap.all(key), key).toEqual(want)
  }
  expect(snap.get('MERGE.AUTOSTASH', 'local')).toBe('true')
  expect(snap.get('merge.autoStash', 'global')).toBe(null)
  expect(snap.get('rebase.autostash')).toBe('')
})

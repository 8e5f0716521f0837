/**
 * `ctxsync log` lists each commit once, under the clone that made it (black-box tester stop 32, finding 7):
 * every clone that gets a commit may record a sync point on it — bob's fast-forward pull of ann's merge runs
 * post-merge, `ctxsync sync` records one — and each was listed as an entry of its own, bob's as
 * 'bob (recorded at merge)' on ann's merge. A temp git repository with the sync points written as those
 * clones' hooks write them (the notes travel with push and fetch); no daemon.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { log } from '../../src/commands/log.js'
import { addSyncPoint, type SyncPoint } from '../../src/git/notes.js'
import { Repo } from '../../src/git/repo.js'
import { removeSpaceDirs, spaceDir, TODOS } from './harness.js'

afterAll(removeSpaceDirs)

const git = (cwd: string, who: string, args: string[]): string =>
  execFileSync('git', ['-c', `user.name=${who}`, '-c', `user.email=${who}@x`, '-c', 'core.hooksPath=/dev/null', ...args], { cwd, encoding: 'utf8' }).trim()

const point = (by: string, peer: string, via: string, at: string): SyncPoint => ({ v: 1, at, by, peer, via, files: { [TODOS]: { b: '0'.repeat(40) } }, ch: [TODOS] })

it("a commit with sync points of several clones is one entry, its maker's", async () => {
  const root = await spaceDir({ name: 'bob' })
  await fs.mkdir(path.join(root, '.rhema'), { recursive: true })
  await fs.writeFile(path.join(root, TODOS), 'todos: []\n')
  git(root, 'bob', ['add', '-A'])
  git(root, 'bob', ['commit', '-qm', 'bob c'])
  const bobs = git(root, 'bob', ['rev-parse', 'HEAD'])
  // ann's side branch, merged by ann; bob only fast-forwards to the merge.
  git(root, 'ann', ['checkout', '-q', '-b', 'side', 'HEAD~0'])
  await fs.writeFile(path.join(root, 'other.txt'), 'x\n')
  git(root, 'ann', ['add', 'other.txt'])
  git(root, 'ann', ['commit', '-qm', 'ann other'])
  git(root, 'ann', ['merge', '-q', '--no-ff', '-m', 'Merge of ann', bobs])
  const merge = git(root, 'ann', ['rev-parse', 'HEAD'])
  const repo = (await Repo.open(root))!
  await addSyncPoint(repo, bobs, point('bob', 'p-bob', 'commit', '2026-01-01T10:00:00.000Z'))
  await addSyncPoint(repo, bobs, point('ann', 'p-ann', 'sync', '2026-01-01T10:01:00.000Z'))
  await addSyncPoint(repo, merge, point('ann', 'p-ann', 'merge', '2026-01-01T10:02:00.000Z'))
  await addSyncPoint(repo, merge, point('bob', 'p-bob', 'merge', '2026-01-01T10:03:00.000Z'))
  const { entries } = await log({ cwd: root })
  const rows = entries.filter((e) => e.via !== 'daemon').map((e) => `${e.commit.slice(0, 7)} ${e.author} ${e.via}`)
  expect(rows).toEqual([`${merge.slice(0, 7)} ann merge`, `${bobs.slice(0, 7)} bob commit`])
})

it('a rebased commit is listed by its newest point; a commit without its git author among the points, by its first making point', async () => {
  const root = await spaceDir({ name: 'cy' })
  await fs.mkdir(path.join(root, '.rhema'), { recursive: true })
  await fs.writeFile(path.join(root, TODOS), 'todos: []\n')
  git(root, 'Cy Smith', ['add', '-A'])
  git(root, 'Cy Smith', ['commit', '-qm', 'cy c'])
  const c = git(root, 'cy', ['rev-parse', 'HEAD'])
  const repo = (await Repo.open(root))!
  await addSyncPoint(repo, c, point('dee', 'p-dee', 'sync', '2026-01-01T09:00:00.000Z'))
  await addSyncPoint(repo, c, point('cy', 'p-cy', 'commit', '2026-01-01T10:00:00.000Z'))
  await addSyncPoint(repo, c, point('eve', 'p-eve', 'merge', '2026-01-01T10:01:00.000Z'))
  await addSyncPoint(repo, c, point('cy', 'p-cy', 'commit', '2026-01-01T10:02:00.000Z'))
  const { entries } = await log({ cwd: root })
  expect(entries.filter((e) => e.via !== 'daemon').map((e) => `${e.author} ${e.via} ${e.time}`)).toEqual(['cy commit 2026-01-01T10:02:00.000Z'])
})

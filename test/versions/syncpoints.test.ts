/**
 * Sync points are versions too (issue 16): `history` lists each commit whose sync point covers the file and
 * whose text differs from the one before, among the changes kept here in time order, with the writer its
 * sync point names and the fields it changed; `show`/`diff` take its listed id. A real space in a temp git
 * repository; the sync points recorded by the real recorder (the post-commit hook's), commits dated by git's
 * own environment so that they fall before and after a live edit.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { recordSyncPoint } from '../../src/space/syncpoint.js'
import { readTeamConfig } from '../../src/space/config.js'
import { spacePaths } from '../../src/space/paths.js'
import { diffOf, fileAt, historyOf } from '../../src/space/versions/query.js'
import { versionsDirOf } from '../../src/space/versions/index.js'
import { Encoder, frame, logFile, type By } from '../../src/space/versions/store.js'
import { joinCode, Node, pass, removeSpaceDirs, SEED, TODOS } from '../space/harness.js'

afterAll(removeSpaceDirs)

const T0 = Math.floor(Date.now() / 1000)

/** A commit of the todos file by git author Gil at unix time `at`; with a sync point recorded by `by`. */
async function commit(n: Node, text: string, msg: string, at: number, by: string | null): Promise<string> {
  fs.writeFileSync(path.join(n.root, TODOS), text)
  const env = { ...process.env, GIT_AUTHOR_DATE: `@${at} +0000`, GIT_COMMITTER_DATE: `@${at} +0000` }
  const git = (args: string[]) => execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=Gil', '-c', 'user.email=gil@example.invalid', ...args], { cwd: n.root, env, encoding: 'utf8' }).trim()
  git(['add', TODOS])
  git(['commit', '-q', '-m', msg])
  const hash = git(['rev-parse', 'HEAD'])
  if (by) {
    const paths = spacePaths(n.root)
    await recordSyncPoint({ root: n.root, paths, track: (await readTeamConfig(paths.config))!.track, states: {}, via: 'commit', by, commit: hash })
  }
  return hash
}

const row = (e: { via: string; id: string; authors: Array<{ name: string; kind: string }>; fields: Array<{ path: string }> }) =>
  [e.via, e.via === 'commit' ? e.id : '', e.authors.map((a) => `${a.name}/${a.kind}`).join(), e.fields.map((f) => f.path).join()]

it('commits with a sync point are history entries, in time order among the versions, with their writer and fields', async () => {
  const ann = await Node.make({ name: 'ann', files: { [TODOS]: SEED } })
  const c1 = await commit(ann, SEED, 'seed', T0 - 100, 'ann')
  await ann.start()
  const doing = SEED.replace('status: todo', 'status: doing')
  await ann.edit(doing)
  await ann.s.versions!.flushed()
  const c2 = await commit(ann, doing, 'ann starts t0', T0 + 100, 'ann')
  // No sync point (a teammate without ctxsync): not listed; its change shows in the next sync point's fields.
  const renamed = doing.replace('title: second', 'title: second, renamed')
  await commit(ann, renamed, 'rename t1', T0 + 200, null)
  const done = renamed.replace('status: doing', 'status: done')
  const c4 = await commit(ann, done, 'ann finishes "t0"', T0 + 300, 'ann')
  // A sync point whose text is the last one's: nothing changed, not listed.
  fs.writeFileSync(path.join(ann.root, 'notes.txt'), 'x\n')
  execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=Gil', '-c', 'user.email=gil@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'empty'], { cwd: ann.root })
  const paths = spacePaths(ann.root)
  await recordSyncPoint({ root: ann.root, paths, track: (await readTeamConfig(paths.config))!.track, states: {}, via: 'commit', by: 'ann' })

  const dir = versionsDirOf(ann.root)
  const all = await historyOf(dir, { doc: TODOS, root: ann.root })
  const short = (h: string) => all.find((e) => e.commit === h)!.id
  expect(all.filter((e) => e.via === 'commit').map((e) => e.commit)).toEqual([c4, c2, c1])
  const [e4, e2, e1] = all.filter((e) => e.via === 'commit')
  // Newest first: c4 and c2 (after the edit), the live edit, its start, c1 (before).
  expect(all.map(row)).toEqual([
    ['commit', short(c4), 'ann/human', 'todos[id=t0].status,todos[id=t1].title'],
    ['commit', short(c2), 'ann/human', 'todos[id=t0].status'],
    ['local', '', 'ann/human', 'todos[id=t0].status'],
    ...all.slice(3, -1).map(row),
    ['commit', short(c1), 'ann/human', e1!.fields.map((f) => f.path).join()],
  ])
  expect(all.slice(3, -1).every((e) => e.via !== 'commit')).toBe(true)
  // The first sync point: against its parent (none here: every field added).
  expect(e1!.fields.length).toBeGreaterThan(0)
  expect(e1!.fields.every((f) => f.kind === 'added')).toBe(true)
  expect(e4).toMatchObject({ file: TODOS, subject: 'ann finishes "t0"', time: new Date((T0 + 300) * 1000).toISOString(), authors: [{ id: ann.id, name: 'ann', kind: 'human' }] })
  expect(e4!.id).toMatch(/^[0-9a-f]{7,}$/)
  expect(e2!.fields).toEqual([{ path: 'todos[id=t0].status', kind: 'changed', before: '"todo"', after: '"doing"' }])

  // -n, --since, --author apply to them too.
  expect((await historyOf(dir, { doc: TODOS, root: ann.root, limit: 2 })).map((e) => e.commit)).toEqual([c4, c2])
  expect((await historyOf(dir, { doc: TODOS, root: ann.root, since: (T0 + 150) * 1000 })).map((e) => e.commit)).toEqual([c4])
  expect(await historyOf(dir, { doc: TODOS, root: ann.root, author: 'Gil' })).toEqual([])
  expect((await historyOf(dir, { doc: TODOS, root: ann.root, author: 'ann', limit: 1 })).map((e) => e.commit)).toEqual([c4])
  // Every file (no PATH): the same commits.
  expect((await historyOf(dir, { root: ann.root })).filter((e) => e.via === 'commit').map((e) => e.commit)).toEqual([c4, c2, c1])

  // show and diff take the id listed.
  expect((await fileAt(ann.root, dir, e2!.id, TODOS)).text).toBe(doing)
  const d = await diffOf(ann.root, dir, TODOS, e2!.id, e4!.id)
  expect(d.changes.map((c) => c.path)).toEqual(['todos[id=t0].status', 'todos[id=t1].title'])

  // Human or agent as the space knows its writer: this machine's settings say agent now.
  const local = spacePaths(ann.root).local
  fs.writeFileSync(local, fs.readFileSync(local, 'utf8').replace('agent: false', 'agent: true'))
  expect((await historyOf(dir, { doc: TODOS, root: ann.root, limit: 1 }))[0]!.authors).toEqual([{ id: ann.id, name: 'ann', kind: 'agent' }])
  await ann.close()
})

it("an undo names the change it undid only when that change is kept here (a peer's undo names its own id)", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-undoof-'))
  const me: By = ['p-1', 'ada', 'human']
  const texts = ['a: 1\n', 'a: 2\n', 'a: 1\n', 'a: 3\n', 'a: 4\n']
  const [enc1, enc2] = [new Encoder(), new Encoder()]
  const vias = ['start', 'local', 'undo', 'undo', 'undo'] as const
  fs.writeFileSync(logFile(dir, 'x.yaml'), frame(texts.map((text, i) => enc1.record({ t: 1000 + i, by: [me], via: vias[i]!, text, ...(i === 3 ? { of: 'feedbeef' } : {}) }))))
  const first = await historyOf(dir, { doc: 'x.yaml' })
  const local = first.find((e) => e.via === 'local')!.id
  fs.writeFileSync(logFile(dir, 'x.yaml'), frame(texts.map((text, i) => enc2.record({ t: 1000 + i, by: [me], via: vias[i]!, text, ...(i === 2 ? { of: local } : i === 3 ? { of: 'feedbeef' } : {}) }))))
  const undos = (await historyOf(dir, { doc: 'x.yaml' })).filter((e) => e.via === 'undo').map((e) => [e.of, e.ofElsewhere])
  expect(undos).toEqual([[undefined, undefined], ['feedbeef', true], [local, undefined]])
})

// `diff C1 C2` named who set each value *today*: a field bob changed after C2 was credited to bob for the
// change C2 made (black-box tester, issue 16). The versions up to C2's time say who set what C2 holds.
it('diff between two commits names who set the values as the later commit holds them, not a later editor', async () => {
  const clock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-clock-')), 'offset')
  const was = process.env.CTXSYNC_TEST_CLOCK
  process.env.CTXSYNC_TEST_CLOCK = clock
  try {
    const ann = await Node.make({ name: 'ann', files: { [TODOS]: SEED } })
    const c1 = await commit(ann, SEED, 'seed', T0 - 100, 'ann')
    await ann.start()
    const bob = await Node.make({ name: 'bob', join: await joinCode(ann.root) })
    await bob.start()
    await pass(ann, bob)
    const byAnn = SEED.replace('title: first', 'title: first by ann')
    await ann.edit(byAnn)
    await ann.s.versions!.flushed()
    const c2 = await commit(ann, byAnn, 'ann: t0', Math.ceil(Date.now() / 1000), 'ann')
    await pass(ann, bob)
    fs.writeFileSync(clock, String(10 * 60_000))
    await bob.edit(byAnn.replace('title: first by ann', 'title: first by bob'))
    await pass(bob, ann)
    await ann.s.versions!.flushed()
    const d = await diffOf(ann.root, versionsDirOf(ann.root), TODOS, c1, c2)
    expect(d.changes.map((c) => [c.path, c.authors.map((a) => a.name)])).toEqual([['todos[id=t0].title', ['ann']]])
    await bob.close()
    await ann.close()
  } finally {
    if (was === undefined) delete process.env.CTXSYNC_TEST_CLOCK
    else process.env.CTXSYNC_TEST_CLOCK = was
  }
})

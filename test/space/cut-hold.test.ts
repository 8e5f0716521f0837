/**
 * A file cut short is held a moment (cuthold.ts CUT_SETTLE_MS) and then taken in: a person who deleted
 * the file's last item meant it. A peer's edit of that very item that arrived during the hold was not in
 * the file when the person saved, so the deletion must not swallow it: the item stays, with the
 * delete-versus-edit conflict, as between two live peers (black-box tester, round 2: the edit was lost on
 * both clones with no record, 3 of 3).
 */
import { afterAll, expect, it } from 'vitest'
import { sha256hex } from '../../src/ids.js'
import { idle, removeSpaceDirs, SEED, seededPair, TODOS } from './harness.js'
import { exchange } from './joinRig.js'

afterAll(removeSpaceDirs)

it('the last item deleted, a peer edits it during the hold: the item stays with a conflict on both', async () => {
  const { a, b } = await seededPair()
  expect(await b.file()).toBe(SEED)
  // b deletes its last item (t1): the file is the start of its last text, so it is held a moment.
  const cut = SEED.replace('  - id: t1\n    title: second\n    status: todo\n', '')
  await b.edit(cut)
  expect(b.s.doc(TODOS)!.file.problem?.message).toMatch(/cut short/)
  // Nothing for the person to fix: status says pending, not held (tester round 2: `status --check` exited 4).
  const { liveFiles } = await import('../../src/space/summary.js')
  expect(liveFiles(b.s).find((f) => f.path === TODOS)?.state).toBe('pending')
  // Meanwhile a edits t1.
  const edited = SEED.replace('title: second', 'title: second, edited by a')
  await a.edit(edited)
  await idle(a.s)
  const u = a.host().encodeDiff(TODOS, b.host().stateVector(TODOS))!
  await b.s.applyRemote(TODOS, u, a.id)
  // The hold ends (idle waits for the look again), the deletion is taken in.
  await idle(b.s)
  await exchange(b, a)
  await exchange(a, b)
  expect(await b.file()).toBe(edited)
  expect(await a.file()).toBe(edited)
  for (const n of [a, b]) expect(n.s.conflicts().map((c) => c.kind)).toEqual(['delete'])
  expect(sha256hex((await b.file())!)).toBe(sha256hex(edited))
  for (const n of [a, b]) await n.close()
})

/**
 * An in-place writer that truncates the file and pauses longer than the hold before writing its text
 * (black-box tester round 2, 4 of 6 at a 3 s pause): the emptying is taken in and reaches the peers, then
 * the writer's whole text lands. That text was made from the one before the truncation, yet it is no stale
 * buffer: the disk it replaced was empty, so it is taken against the empty text. Read as a stale save of
 * the text before, the emptying stayed and both clones ended with an empty file.
 */
const REWRITE = SEED.replace('title: second\n    status: todo', 'title: second\n    status: done')

it('emptied for longer than the hold, a peer adds meanwhile, then the whole text: both keep the text and the addition', async () => {
  const { a, b } = await seededPair()
  await b.edit('')
  await idle(b.s) // the hold ends: the emptying is taken in
  await exchange(b, a)
  expect(await a.file()).toBe('')
  const added = 'todos:\n  - id: n1\n    title: added while empty\n    status: todo\n'
  await a.edit(added)
  await idle(a.s)
  await exchange(a, b)
  expect(await b.file()).toBe(added)
  await b.edit(REWRITE)
  await idle(b.s)
  await exchange(b, a)
  const end = await b.file()
  expect(await a.file()).toBe(end)
  for (const id of ['t0', 't1', 'n1']) expect(end!.split(`id: ${id}\n`).length - 1, id).toBe(1)
  expect(end).toContain('status: done')
  for (const n of [a, b]) await n.close()
})

it('emptied for longer than the hold while a peer edits an item, then the whole text: nothing empty, no item twice', async () => {
  const { a, b } = await seededPair()
  await b.edit('')
  const edited = SEED.replace('title: first', 'title: first, edited by a')
  await a.edit(edited)
  await idle(a.s)
  await b.s.applyRemote(TODOS, a.host().encodeDiff(TODOS, b.host().stateVector(TODOS))!, a.id)
  await idle(b.s) // the hold ends: the emptying is taken in, t0 stays for a's edit
  await b.edit(REWRITE)
  await idle(b.s)
  await exchange(b, a)
  await exchange(a, b)
  const end = await b.file()
  expect(await a.file()).toBe(end)
  for (const id of ['t0', 't1']) expect(end!.split(`id: ${id}\n`).length - 1, id).toBe(1)
  expect(end).toContain('status: done')
  for (const n of [a, b]) await n.close()
})

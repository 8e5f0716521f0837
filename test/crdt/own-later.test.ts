/**
 * Stale saves and this machine's own later saves (black-box tester stop 30, findings 1 and 8; `recent.ts`
 * ownAfter, `staletell.ts`): a save of one's own earlier text past one's own later save is an edit of that
 * later save (an editor's undo), merged with the peers' changes since; one's own values kept over a save are
 * said as one's own, and an overwrite of them is no conflict; a buffer several write-backs old names none
 * of the peers' values it lacked, only counts them.
 */
import { expect, test } from 'vitest'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'
import type { FileModel } from '../../src/crdt/model.js'

const S0 = 'todos:\n  - id: T-A\n    title: Alpha\n  - id: T-Z\n    title: Zed\n'
const S1 = 'todos:\n  - id: T-A\n    title: Alpha\n    status: todo\n  - id: T-B\n    title: Beta\n  - id: T-Z\n    title: Zed\n'
const S2 = 'todos:\n  - id: T-A\n    title: Alpha\n    note: x\n  - id: T-Z\n    title: Zed\n'

/** B saves `edit` of its file; A takes it in and writes it (our write). */
function peer(A: FileModel, B: FileModel, edit: (t: string) => string): void {
  B.ingest(edit(B.render().text!))
  send(B, A)
  A.setBase(A.render())
}

test("the tester's story: ann's S1 + C after her S2 and bob's note is S1 + C with bob's note, on both", () => {
  const [A, B] = newPair(S0)
  A.ingest(S1)
  A.ingest(S2)
  send(A, B)
  B.setBase(B.render())
  peer(A, B, (t) => t.replace('note: x', 'note: y'))
  const out = A.ingest(S1.replace('  - id: T-Z', '  - id: T-C\n    title: Gamma\n  - id: T-Z'))
  expect(out.text).toBe('todos:\n  - id: T-A\n    title: Alpha\n    note: y\n    status: todo\n  - id: T-B\n    title: Beta\n  - id: T-C\n    title: Gamma\n  - id: T-Z\n    title: Zed\n')
  expect(out.stale).toMatchObject({ ownBase: true, values: [{ path: 'todos[T-A].note', kept: 'y', removed: true }] })
  // Her removal of the note met bob's change of it: a delete-versus-edit conflict between ann and bob, his value shown.
  expect(A.conflicts().map((c) => [c.kind, c.display, c.values.map((v) => v.author?.name)])).toEqual([['delete', 'todos[id=T-A].note', ['a', 'b']]])
  send(A, B)
  expect(B.render().text).toBe(out.text)
})

const T0 = 'todos:\n  - id: T-1\n    status: todo\n  - id: T-2\n    status: todo\n  - id: T-3\n    status: todo\n'

/** A saved T-1 done between two of B's writes; A's save of T0 then is stale from T0 (our write follows it). */
function ownBetween(): [FileModel, FileModel] {
  const [A, B] = newPair(T0)
  peer(A, B, (t) => t.replace('T-2\n    status: todo', 'T-2\n    status: bob2'))
  A.ingest(A.render().text!.replace('T-1\n    status: todo', 'T-1\n    status: done'))
  send(A, B)
  B.setBase(B.render())
  peer(A, B, (t) => t.replace('T-3\n    status: todo', 'T-3\n    status: bob3'))
  return [A, B]
}

test("one's own later value kept over a stale save is said as one's own, not a peer's", () => {
  const [A] = ownBetween()
  const out = A.ingest(T0 + '  - id: T-4\n    status: new\n')
  expect(out.text).toContain('T-1\n    status: done')
  const own = out.stale?.values?.filter((v) => v.own)
  expect(own).toEqual([{ path: 'todos[T-1].status', kept: 'done', saved: 'todo', own: true }])
})

test("a stale save over one's own later value records no conflict with oneself, and says it", () => {
  const [A, B] = ownBetween()
  const out = A.ingest(T0.replace('T-1\n    status: todo', 'T-1\n    status: blocked'))
  expect(out.text).toContain('T-1\n    status: blocked')
  expect(out.text).toContain('T-3\n    status: bob3')
  expect(A.conflicts()).toEqual([])
  expect(out.stale?.overwritten).toBe(0)
  expect(out.stale?.values).toContainEqual({ path: 'todos[T-1].status', kept: 'done', saved: 'blocked', own: true, replaced: true })
  send(A, B)
  expect(B.conflicts()).toEqual([])
  expect(B.render().text).toBe(out.text)
})

test('a buffer several write-backs old names none of the peers values it lacked, and counts them', () => {
  const [A, B] = newPair(T0)
  for (const k of [1, 2, 3]) peer(A, B, (t) => t.replace(`T-${k}\n    status: todo`, `T-${k}\n    status: bob${k}`))
  const out = A.ingest(T0 + '  - id: T-4\n    status: new\n')
  expect(out.text).toContain('status: bob3\n  - id: T-4')
  expect(out.stale?.values).toBeUndefined()
  expect(out.stale?.unnamed).toBe(3)
})

test('a stale copy written back unchanged takes back the peers changes since, and says which and how many', () => {
  const [A, B] = newPair(T0)
  for (const k of [2, 3]) peer(A, B, (t) => t.replace(`T-${k}\n    status: todo`, `T-${k}\n    status: bob${k}`))
  const out = A.ingest(T0)
  expect(out.text).toBe(T0)
  expect(out.stale).toBeUndefined()
  expect(out.undid).toEqual({ writes: 2, count: 2, values: [{ path: 'todos[T-2].status', was: 'bob2', now: 'todo' }, { path: 'todos[T-3].status', was: 'bob3', now: 'todo' }] })
  send(A, B)
  expect(B.render().text).toBe(T0)
})

// Black-box tester stop 31, finding 4: a peer's item added since the copy was made went with it, and only
// values were counted: with nothing else changed the log said 'your edit taken in', no undo hint.
test('a stale copy written back unchanged over a peer\'s new item: the item is said, once, as removed', () => {
  const [A, B] = newPair(T0)
  peer(A, B, (t) => t + '  - id: T-9\n    title: Nine by bob\n    status: todo\n')
  peer(A, B, (t) => t.replace('T-2\n    status: todo', 'T-2\n    status: bob2'))
  const out = A.ingest(T0)
  expect(out.text).toBe(T0)
  expect(out.undid).toEqual({ writes: 2, count: 2, values: [{ path: 'todos[T-2].status', was: 'bob2', now: 'todo' }, { path: 'todos[T-9]', was: '', now: null }] })
})

test('a value a peer only quoted otherwise is not named as kept over the save', () => {
  const F = 'todos:\n- id: T-1\n  status: todo\n  title: "Café setup ☕"\n- id: T-2\n  status: todo\n  title: Write docs\n'
  const [A, B] = newPair(F)
  peer(A, B, () => F.replace('"Café setup ☕"', 'Café setup ☕').replace(/(T-2\n {2}status: )todo/, '$1done'))
  const out = A.ingest(F.replace(/(T-1\n {2}status: )todo/, '$1doing'))
  expect(out.stale?.values).toEqual([{ path: 'todos[T-2].status', kept: 'done', saved: 'todo' }])
})

test("an item one's own later save removed, which a stale save still has, is said as removed by oneself", () => {
  const [A, B] = newPair(T0)
  peer(A, B, (t) => t.replace('T-2\n    status: todo', 'T-2\n    status: bob2'))
  A.ingest(A.render().text!.replace('  - id: T-3\n    status: todo\n', ''))
  send(A, B)
  B.setBase(B.render())
  peer(A, B, (t) => t.replace('T-1\n    status: todo', 'T-1\n    status: bob1'))
  const out = A.ingest(T0 + '  - id: T-4\n    status: new\n')
  expect(out.text).not.toContain('T-3')
  expect(out.stale?.values?.filter((v) => v.own)).toEqual([{ path: 'todos[T-3]', kept: '', saved: '', own: true, gone: true }])
})

test("read past one's own later save, what that save added and this one lacks is said as taken back", () => {
  const [A, B] = newPair(S0)
  A.ingest(S1)
  A.ingest(S2 + '  - id: T-9\n    title: Nine\n')
  send(A, B)
  B.setBase(B.render())
  peer(A, B, (t) => t.replace('note: x', 'note: y'))
  const out = A.ingest(S1.replace('  - id: T-Z', '  - id: T-C\n    title: Gamma\n  - id: T-Z'))
  expect(out.text).not.toContain('T-9')
  expect(out.stale?.values?.filter((v) => v.took)).toEqual([{ path: 'todos[T-9]', kept: '', saved: '', own: true, took: true }])
})

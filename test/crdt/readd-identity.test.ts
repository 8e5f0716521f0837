/**
 * A new item beside a peer's deletion, and one new id added on two peers (black-box tester, issue 13): an
 * item is told by its identity (`id`) before its other fields. The generators carry both scenarios
 * (stalesave-gen.ts: 'readd' and 'same-id' cases), so seeds find them too; these are the stories.
 */
import { expect, test } from 'vitest'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'

const SHIP = '  - id: T-2\n    title: Ship it\n    status: todo\n    priority: high\n'
const R1 = `todos:
  - id: T-1
    title: Write docs
    status: todo
  - id: T-3
    title: Fix bug
    status: doing
${SHIP}`
const WITHOUT = R1.replace(SHIP, '')
const NEW = '  - id: T-9\n    title: Ship it\n    status: todo\n    priority: high\n'

for (const edited of [false, true]) {
  test(`an agent appends a new item with the title of one a peer just deleted${edited ? ' (and had edited first)' : ''}: a new item, the deleted one stays deleted`, () => {
    const [A, B] = newPair(R1)
    if (edited) {
      // The peer changed the item before deleting it: that value must not show in the new item.
      const low = R1.replace('priority: high', 'priority: low')
      expect(B.ingest(low).text).toBe(low)
      send(B, A)
      A.setBase(A.render())
    }
    expect(B.ingest(WITHOUT).text).toBe(WITHOUT)
    send(B, A)
    const r = A.render()
    expect(r.text).toBe(WITHOUT)
    A.setBase(r) // A's daemon writes the deletion into A's file; the agent reads that file
    const mine = WITHOUT + NEW
    const out = A.ingest(mine)
    // Read against the text before the deletion, the new item sat where T-2 was and matched it by its other
    // fields: it took T-2's node (T-2 revived with a delete conflict, its id changed to T-9).
    expect(out.text).toBe(mine)
    send(A, B)
    send(B, A)
    for (const m of [A, B]) {
      expect(m.render().text).toBe(mine)
      expect(m.conflicts()).toEqual([])
    }
  })
}

const BASE = 'todos:\n  - id: T-1\n    title: Write docs\n    status: todo\n'
const FROM_A = '  - id: T-9\n    title: From A\n    status: todo\n'
const FROM_B = '  - id: T-9\n    title: From B\n    status: doing\n    priority: high\n'
const listed = (cs: ReturnType<ReturnType<typeof newPair>[0]['conflicts']>) =>
  cs.map((c) => `${c.display} ${c.kind}: ${c.values.map((v) => v.raw).join(' | ')}`).sort()

// One item, as README "How it works" says (two peers that add the same todo write the same node): two
// additions under one id merge field by field like concurrent edits: a field only one side wrote is kept, and
// where both wrote, the later value shows and the other is recorded.
test('one new id added on two peers apart: one item, the later value of each field shows, the other is recorded on both', () => {
  const [A, B] = newPair(BASE)
  B.ingest(BASE + FROM_B)
  A.ingest(BASE + FROM_A)
  send(A, B)
  send(B, A)
  const want = BASE + '  - id: T-9\n    title: From A\n    status: todo\n    priority: high\n'
  for (const m of [A, B]) {
    expect(m.render().text).toBe(want)
    expect(listed(m.conflicts())).toEqual(['todos[id=T-9].status value: doing | todo', 'todos[id=T-9].title value: From B | From A'])
  }
})

test('one new id added on two peers, the second saved before its file showed the first: every value of the first it overwrote is recorded', () => {
  const [A, B] = newPair(BASE)
  B.ingest(BASE + FROM_B)
  send(B, A) // A's daemon has B's item and has not written it into A's file yet when A's save lands
  const out = A.ingest(BASE + FROM_A)
  // The save's new item landed on B's node (one id, one item) and wrote its values over B's: unrecorded before.
  expect(out.text).toContain('title: From A')
  send(A, B)
  send(B, A)
  for (const m of [A, B]) {
    expect(m.render().text).toBe(out.text)
    const cs = listed(m.conflicts())
    expect(cs).toContain('todos[id=T-9].title value: From B | From A')
    expect(cs).toContain('todos[id=T-9].status value: doing | todo')
  }
})

test('one new id added on two peers, the second saved from a buffer older than the first, which its file shows: read as its own item, every overwritten value recorded', () => {
  const [A, B] = newPair(BASE)
  B.ingest(BASE + FROM_B)
  send(B, A)
  A.setBase(A.render()) // A's daemon wrote B's T-9 into A's file; A's agent had read the file before
  // Read as an edit of B's item (the save holds its line `- id: T-9`), A's values replaced B's and B's
  // priority went, with no record.
  const out = A.ingest(BASE + FROM_A)
  expect(out.text).toBe(BASE + '  - id: T-9\n    title: From A\n    status: todo\n    priority: high\n')
  send(A, B)
  send(B, A)
  for (const m of [A, B]) {
    expect(m.render().text).toBe(out.text)
    const cs = listed(m.conflicts())
    expect(cs).toContain('todos[id=T-9].title value: From B | From A')
    expect(cs).toContain('todos[id=T-9].status value: doing | todo')
  }
})

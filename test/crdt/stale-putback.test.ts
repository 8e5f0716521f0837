/**
 * Black-box tester finding 1: a fresh save that puts an earlier value back, with another change, reads just
 * like a stale buffer of the earlier text with that change (content alone cannot tell them apart). Data is
 * kept first (the peer's value stays, `recent.ts`), but the save says which value it kept over the one the
 * save showed, so the person can set it again — and setting it again goes through.
 */
import { expect, test } from 'vitest'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'

const V0 = '# Todos\ntodos:\n  - id: T-1\n    title: Set up CI\n    status: todo   # owner: ann\n  - id: T-2\n    title: Write docs\n    status: todo\n'

test("the tester's story: bob's done is kept, the save says so, and ann's todo set again goes through", () => {
  const [A, B] = newPair(V0)
  const v1 = V0.replace('status: todo   #', 'status: done   #')
  B.ingest(v1)
  send(B, A)
  A.setBase(A.render())
  // Ann read V1, put todo back and retitled T-2.
  const out = A.ingest(v1.replace('status: done   #', 'status: todo   #').replace('Write docs', 'Write the docs'))
  expect(out.stale).toEqual({ kept: 1, overwritten: 0, values: [{ path: 'todos[T-1].status', kept: 'done', saved: 'todo' }] })
  expect(out.text).toBe(v1.replace('Write docs', 'Write the docs'))
  A.setBase(A.render())
  const again = A.ingest(out.text!.replace('status: done   #', 'status: todo   #'))
  expect(again.stale).toBeUndefined()
  expect(again.text).toBe(V0.replace('Write docs', 'Write the docs'))
  send(A, B)
  expect(B.render().text).toBe(again.text)
})

test('a value the save changed itself is no kept value (it is recorded as overwritten instead)', () => {
  const [A, B] = newPair(V0)
  const v1 = V0.replace('status: todo   #', 'status: done   #').replace('title: Set up CI', 'title: Set up CI (bob)')
  B.ingest(v1)
  send(B, A)
  A.setBase(A.render())
  const out = A.ingest(V0.replace('status: todo   #', 'status: blocked   #'))
  expect(out.stale?.overwritten).toBe(1)
  expect(out.stale?.values).toEqual([{ path: 'todos[T-1].title', kept: 'Set up CI (bob)', saved: 'Set up CI' }])
})

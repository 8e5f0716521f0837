/**
 * Black-box tester, stop 30, finding 3: a stale buffer of V0 saved with one value changed, a value a peer
 * changed meanwhile (then the peer changed another): the save is as near V0 as the text after the peer's
 * first change (one line each), and the tie went to the newer text, as if the person had seen the peer's
 * value and changed it on purpose: the peer's value was overwritten with no record.
 */
import { expect, test } from 'vitest'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'

const V0 = 'items:\n  - id: A\n    status: todo\n  - id: B\n    status: todo\n'

test('the overwritten peer value is recorded', () => {
  const [A, B] = newPair(V0)
  const r1 = V0.replace('id: A\n    status: todo', 'id: A\n    status: bob-a')
  B.ingest(r1)
  send(B, A)
  A.setBase(A.render())
  const r2 = r1.replace('id: B\n    status: todo', 'id: B\n    status: bob-b')
  B.ingest(r2)
  send(B, A)
  A.setBase(A.render())
  const out = A.ingest(V0.replace('id: A\n    status: todo', 'id: A\n    status: ann-a'))
  expect(out.text).toBe(r2.replace('bob-a', 'ann-a'))
  expect(out.stale?.overwritten).toBe(1)
  expect(A.conflicts().map((c) => c.values.map((v) => v.value).sort())).toEqual([['ann-a', 'bob-a']])
})

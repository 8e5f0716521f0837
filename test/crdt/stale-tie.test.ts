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

/**
 * Black-box tester, stop 31, finding 6: the same tie with the peer's first change 8 writes or more before the
 * save — past the ring (MAX_RECENT), its text is an older one (`recentolder.ts`), where the tie went to the
 * newer: with 10, 20, 60 writes no record. Each later write changes one of a few other values.
 */
test.each([8, 9, 20, 60])('the overwritten peer value is recorded when the buffer is %i writes old', (n) => {
  const N0 = '# Todos\ntodos:\n' + Array.from({ length: 40 }, (_, i) => `  - id: T-${i + 1}\n    title: Task ${i + 1}\n    status: todo   # c${i + 1}\n`).join('')
  const [A, B] = newPair(N0)
  let t = N0.replace('status: todo   # c1\n', 'status: doing   # c1\n')
  for (let k = 1; k <= n; k++) {
    if (k > 1) t = t.replace(new RegExp(`title: Task ${2 + (k % 3)}( [^\\n]*)?\\n`), `title: Task ${2 + (k % 3)} b${k}\n`)
    B.ingest(t)
    send(B, A)
    A.setBase(A.render())
  }
  const out = A.ingest(N0.replace('status: todo   # c1\n', `status: done-${n}   # c1\n`))
  expect(out.text).toBe(t.replace('status: doing   # c1', `status: done-${n}   # c1`))
  expect(out.stale?.overwritten).toBe(1)
  expect(A.conflicts().map((c) => c.values.map((v) => v.value).sort())).toEqual([['doing', `done-${n}`]])
})

/**
 * A tie at a small file's end when both append (stale-save generator seeds 2 and 4, 'merge differs (not taken
 * as stale)'): bob appends a key, ann's buffer of before appends a comment there. The save is as near both
 * texts (two lines each), the tie went to bob's, and his key was deleted on both with no record.
 */
test("both appended at a small file's end: the peer's key stays, the save's comment lands", () => {
  const r1 = '# Conventions\n# This file documents coding conventions, naming conventions, and standards\n\nconventions: []\n'
  const [A, B] = newPair(r1, [440321842, 1917834492])
  B.ingest(r1 + 'reviewed_by: needs review\n')
  send(B, A)
  A.setBase(A.render())
  const out = A.ingest(r1 + '\n     # deeper note')
  expect(out.text).toContain('reviewed_by: needs review')
  expect(out.text).toContain('# deeper note')
  expect(out.stale).toBeDefined()
  send(A, B)
  expect(B.render().text).toBe(out.text)
})

test("the peer appended a blank line, the stale buffer a key there: the blank line stays (seed 32)", () => {
  const r1 = '# Patterns\n# This file documents design patterns and architectural patterns used in this scope\n\npatterns: []\n'
  const [A, B] = newPair(r1)
  B.ingest(r1 + '\n')
  send(B, A)
  A.setBase(A.render())
  const out = A.ingest(r1 + 'owner: alpha\n')
  expect(out.text!.split('\n').filter((l) => l === '').length).toBe(3)
  expect(out.text).toContain('owner: alpha')
  expect(out.stale).toBeDefined()
  send(A, B)
  expect(B.render().text).toBe(out.text)
})

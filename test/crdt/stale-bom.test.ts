/**
 * A BOM removed is an edit (black-box tester finding 9b: read as a stale save, it was not taken in). The
 * person added it with a save of their own; a peer's change was written in since; their buffer, saved again
 * without the BOM and with an edit, is the text before their BOM save but for the edit: that older text was
 * nearest, the save read as stale from it, and the BOM, absent there too, stayed.
 */
import { expect, test } from 'vitest'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'

const V0 = '# Todos\ntodos:\n  - id: T-1\n    title: Set up CI\n    status: todo\n  - id: T-2\n    title: Write docs\n    status: todo\n'

test('a BOM removed by a stale buffer of the save that added it: removed on both, the peer’s change kept', () => {
  const [A, B] = newPair(V0)
  const v1 = '\uFEFF' + V0
  expect(A.ingest(v1).text).toBe(v1)
  A.setBase(A.render())
  send(A, B)
  B.setBase(B.render())
  const v2 = v1.replace('title: Set up CI', 'title: Set up CI (bob)')
  expect(B.ingest(v2).text).toBe(v2)
  send(B, A)
  A.setBase(A.render())
  // Ann's buffer still holds v1: she removes the BOM and edits T-2.
  const out = A.ingest(V0.replace('Write docs', 'Write the docs'))
  const want = V0.replace('Write docs', 'Write the docs').replace('title: Set up CI', 'title: Set up CI (bob)')
  expect(out.text).toBe(want)
  send(A, B)
  expect(B.render().text).toBe(want)
})

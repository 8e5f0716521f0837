/**
 * An old copy written back unchanged (black-box tester stop 32, finding 5; issue 13): an undo of what the peers
 * did since, said as such (`undid`, the daemon's `ctxsync undo --file` hint) — whatever the number of peer writes
 * since the copy, within the recent ring or before it. At 8 writes the copy had just left the ring, one line
 * from the ring's oldest text: read as a stale edit of that text, bob's last-but-seven title went back
 * silently, credited to ann ('kept 7 changes from peers'), while 1 and 9 writes were said as undos.
 */
import { expect, test } from 'vitest'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'

const V0 = '# Todos\ntodos:\n' + Array.from({ length: 40 }, (_, i) => `  - id: T-${i + 1}\n    title: Task ${i + 1}\n    status: todo   # c${i + 1}\n`).join('')

for (const n of [1, 7, 8, 9, 20]) {
  test(`an unchanged copy from ${n} peer writes ago is an undo of them, said`, () => {
    const [A, B] = newPair(V0)
    let text = V0
    for (let k = 1; k <= n; k++) {
      const i = ((k - 1) % 38) + 2
      text = text.replace(new RegExp(`title: Task ${i}( .*)?\\n`), `title: Task ${i} b${k}\n`)
      B.ingest(text)
      send(B, A)
      A.setBase(A.render())
    }
    const out = A.ingest(V0)
    expect(out.stale).toBeUndefined()
    expect(out.undid?.count).toBe(Math.min(n, 38))
    expect(out.text).toBe(V0)
    send(A, B)
    expect(B.render().text).toBe(V0)
  })
}

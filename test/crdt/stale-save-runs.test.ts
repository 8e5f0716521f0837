/**
 * Old copies written back one run after another (black-box tester stop 32, findings 4 and 5): each run, ann
 * copies the file, bob makes n title edits (each written into ann's file), ann writes the copy back — with
 * one change of her own (T-40's status) or unchanged.
 */
import { expect, test } from 'vitest'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'

const V0 = '# Todos\ntodos:\n' + Array.from({ length: 40 }, (_, i) => `  - id: T-${i + 1}\n    title: Task ${i + 1}\n    status: todo   # c${i + 1}\n`).join('')

type Model = ReturnType<typeof newPair>[0]
function run(A: Model, B: Model, n: number, change: boolean) {
  const copy = A.render().text!
  let text = B.render().text!
  for (let k = 1; k <= n; k++) {
    const i = ((k - 1) % 38) + 2
    text = text.replace(new RegExp(`title: Task ${i}( .*)?\\n`), `title: Task ${i} b${k}-${n}\n`)
    B.ingest(text)
    expect(B.conflicts(), `run ${n}, bob's save ${k}`).toEqual([])
    send(B, A)
    A.setBase(A.render())
  }
  const save = change ? copy.replace(/status: \S+ {3}# c40\n/, `status: ann-${n}   # c40\n`) : copy
  const out = A.ingest(save)
  if (out.text !== undefined && out.complete !== false) A.setBase(A.render())
  send(A, B)
  B.setBase(B.render())
  return out
}

test('consecutive stale saves with a change: each is ann’s later edit, bob’s titles kept, no record (finding 4)', () => {
  const [A, B] = newPair(V0)
  for (const n of [1, 2, 8, 20]) {
    const out = run(A, B, n, true)
    const t = A.render().text!
    expect(t, `run ${n}`).toContain(`status: ann-${n}   # c40`)
    expect(t.split('\n').filter((l) => new RegExp(` b\\d+-${n}$`).test(l)).length, `run ${n}`).toBe(Math.min(n, 38))
    expect(out.stale?.values?.filter((v) => v.replaced) ?? [], `run ${n}`).toEqual([])
    expect(out.stale?.overwritten ?? 0, `run ${n}`).toBe(0)
    expect(A.conflicts(), `run ${n}`).toEqual([])
    expect(B.render().text).toBe(t)
  }
})

test('consecutive unchanged copies: each an undo, said, no record (finding 5)', () => {
  const [A, B] = newPair(V0)
  for (const n of [9, 8, 1, 20]) {
    const out = run(A, B, n, false)
    expect(out.stale, `run ${n}`).toBeUndefined()
    expect(out.undid?.count, `run ${n}`).toBe(n)
    expect([...A.conflicts(), ...B.conflicts()], `run ${n}`).toEqual([])
    expect(B.render().text).toBe(A.render().text)
  }
})

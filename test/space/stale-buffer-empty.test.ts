/**
 * The network-faults ring's seed 880341 in process: p3's file showed t0's title empty for a moment (an
 * update passed on before the one it depends on: forwarded-deletion.test.ts), p3's editor read it, the
 * daemon wrote the whole state (p4's title back) before the editor wrote — a stale buffer (the ring's
 * SIGSTOP did not wait for the daemon to stop) — and the buffer deleted p3's own last todo. That save is
 * taken as blanking p4's title: a null authored by p3, recorded against p4's value, shown on every peer
 * (p4's later status change, just as absent from the buffer, is kept). Read as made from the text it was
 * made from, it keeps p4's title (the deletion may take one more save: crdt/recent.ts's rules).
 * Open (crdt/recent.ts, saveevidence.ts: which text a save was made from; not this file's owner's): flip
 * `it.fails` to `it` when fixed.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { idle, pass, removeSpaceDirs, team, TODOS, type Node } from './harness.js'

afterAll(removeSpaceDirs)

const status = (text: string, v: string) => text.replace(/(- id: t0\n    title: [^\n]*\n    status: )[^\n]*/, `$1${v}`)
const title0 = (text: string, v: string) => text.replace(/(- id: t0\n    title: )[^\n]*/, `$1${v}`)
const listed = (n: Node) => n.s.conflicts().flatMap((c) => c.values.map((v) => `${c.display} ${v.raw} — ${v.author.name}`))

describe('a stale buffer that showed a value empty for a moment', () => {
  it.fails('a save deleting its own last todo does not blank the value', async () => {
    // A line: p4 – p2 – p3; p3 owns the last todo.
    const [p4, p2, p3] = (await team(['p4', 'p2', 'p3'])) as [Node, Node, Node]
    await p3.edit((await p3.file())! + '  - id: a-p3-1\n    title: "added by p3"\n    status: open\n')
    await pass(p3, p2)
    await pass(p2, p4)
    const sent: Uint8Array[] = []
    p4.s.onUpdate((_d, u, origin) => void (origin === null && sent.push(u)))
    await p4.edit(title0((await p4.file())!, '"p4 rev 1"'))
    await idle(p4.s)
    await pass(p4, p2)
    await pass(p2, p3)
    await p4.edit(status((await p4.file())!, 'p4-2'))
    await p4.edit(title0((await p4.file())!, '"p4 rev 3"'))
    await idle(p4.s)
    const [, statusUpdate, titleUpdate] = sent.slice(-3) as [Uint8Array, Uint8Array, Uint8Array]
    const forwarded: Uint8Array[] = []
    p2.s.onUpdate((_d, u) => void forwarded.push(u))
    const deliver = async (u: Uint8Array) => {
      await p2.s.applyRemote(TODOS, u, p4.id)
      await idle(p2.s)
      for (const f of forwarded.splice(0)) await p3.s.applyRemote(TODOS, f, p2.id)
      await idle(p3.s)
    }
    await deliver(titleUpdate)
    const buffer = (await p3.file())!
    expect(buffer).toMatch(/- id: t0\n    title: \n/)
    await deliver(statusUpdate)
    expect(await p3.file()).toMatch(/title: "p4 rev 3"\n    status: p4-2/)
    await p3.edit(buffer.replace(/  - id: a-p3-1\n(    .*\n)*/, ''))
    await idle(p3.s)
    await pass(p3, p2)
    await pass(p2, p4)
    expect(listed(p4)).toEqual([])
    expect(await p4.file()).toMatch(/title: "p4 rev 3"/)
  })
})

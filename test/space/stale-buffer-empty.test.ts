/**
 * The network-faults ring's seed 880341 in process: p3's editor read its file, the daemon wrote p4's
 * changes before the editor wrote (a stale buffer: the ring's SIGSTOP did not wait for the daemon to stop,
 * d4b2c52), and the buffer deleted p3's own last todo. That save is read as made from the newest text: the
 * title the buffer still shows — in the ring a transiently empty one (forwarded-deletion.test.ts), a null —
 * is written by p3 over p4's newer one and recorded against it, on every peer, while p4's status change, just
 * as absent from the buffer, is kept. Read as made from the text it was made from, p4's title stays (the
 * deletion may take one more save: crdt/recent.ts's rules).
 * Open (crdt/recent.ts, saveevidence.ts: which text a save was made from; not this file's owner's): flip
 * `it.fails` to `it` when fixed.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { idle, pass, removeSpaceDirs, team, type Node } from './harness.js'

afterAll(removeSpaceDirs)

const status = (text: string, v: string) => text.replace(/(- id: t0\n    title: [^\n]*\n    status: )[^\n]*/, `$1${v}`)
const title0 = (text: string, v: string) => text.replace(/(- id: t0\n    title: )[^\n]*/, `$1${v}`)
const listed = (n: Node) => n.s.conflicts().flatMap((c) => c.values.map((v) => `${c.display} ${v.raw} — ${v.author.name}`))

describe('a stale buffer', () => {
  it.fails('a save deleting its own last todo does not write back the older value it shows', async () => {
    const [p4, p3] = (await team(['p4', 'p3'])) as [Node, Node]
    await p3.edit((await p3.file())! + '  - id: a-p3-1\n    title: "added by p3"\n    status: open\n')
    await pass(p3, p4)
    await p4.edit(title0((await p4.file())!, '"p4 rev 1"'))
    await pass(p4, p3)
    const buffer = (await p3.file())!
    await p4.edit(status((await p4.file())!, 'p4-2'))
    await p4.edit(title0((await p4.file())!, '"p4 rev 3"'))
    await idle(p4.s)
    await pass(p4, p3)
    expect(await p3.file()).toMatch(/title: "p4 rev 3"\n    status: p4-2/)
    await p3.edit(buffer.replace(/  - id: a-p3-1\n(    .*\n)*/, ''))
    await idle(p3.s)
    await pass(p3, p4)
    expect(listed(p4)).toEqual([])
    expect(await p4.file()).toMatch(/title: "p4 rev 3"/)
  })
})

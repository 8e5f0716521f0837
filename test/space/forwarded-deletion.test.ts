/**
 * Found while chasing the network-faults ring's seed 880341 (a null over a title only its owner writes): a
 * peer that gets an update before one it depends on applies its deletions at once and passes on what it
 * applied — the deletion alone — and the next peer, missing nothing it knows of, renders the value the
 * deletion removed as empty and writes `title: ` into its file, a value nobody wrote (for seconds in the
 * ring: the writes that complete it take the long way round). Open: crdt and the forwarding (space/doclog,
 * net/forward) are not this test's owner's; flip `it.fails` to `it` when fixed. Tried at stop 29 and reverted:
 * holding such an update whole until what it needs came (710e40f) also held whole sync diffs — a relay's
 * diff carries its own pending structs — so one lost update stopped a peer's sync; the relay runs of the
 * network-faults test then failed 2 in 3. What stays to try: let Yjs integrate as it does, but announce
 * (and relay) nothing of a document while it is incomplete, merged once whole, with a time bound.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { idle, pass, removeSpaceDirs, team, TODOS, type Node } from './harness.js'

afterAll(removeSpaceDirs)

const status = (text: string, v: string) => text.replace(/(- id: t0\n    title: [^\n]*\n    status: )[^\n]*/, `$1${v}`)
const title0 = (text: string, v: string) => text.replace(/(- id: t0\n    title: )[^\n]*/, `$1${v}`)

describe('an update passed on before the one it depends on', () => {
  it.fails('shows no empty value on the next peer', async () => {
    // A line: p4 – p2 – p3.
    const [p4, p2, p3] = (await team(['p4', 'p2', 'p3'])) as [Node, Node, Node]
    const sent: Uint8Array[] = []
    p4.s.onUpdate((_d, u, origin) => void (origin === null && sent.push(u)))
    await p4.edit(title0((await p4.file())!, '"p4 rev 1"'))
    await idle(p4.s)
    await pass(p4, p2)
    await pass(p2, p3)
    await p4.edit(status((await p4.file())!, 'p4-2'))
    await p4.edit(title0((await p4.file())!, '"p4 rev 3"'))
    await idle(p4.s)
    const [, statusUpdate, titleUpdate] = sent as [Uint8Array, Uint8Array, Uint8Array]
    // p2 gets the retitle first (the status change was lost on the way, or is late): it waits, but its
    // deletion of "p4 rev 1" is applied, and passed on to p3.
    const forwarded: Uint8Array[] = []
    p2.s.onUpdate((_d, u) => void forwarded.push(u))
    await p2.s.applyRemote(TODOS, titleUpdate, p4.id)
    await idle(p2.s)
    for (const u of forwarded.splice(0)) await p3.s.applyRemote(TODOS, u, p2.id)
    await idle(p3.s)
    const shown = (await p3.file())!
    await p2.s.applyRemote(TODOS, statusUpdate, p4.id)
    await pass(p2, p3)
    expect(await p3.file()).toMatch(/title: "p4 rev 3"/)
    expect(shown).toMatch(/- id: t0\n    title: "p4 rev [13]"/)
  })
})

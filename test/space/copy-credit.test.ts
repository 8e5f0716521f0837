/**
 * Found by the network-faults ring (after 7df92f7 still about once a seed: 'you changed it at once; the
 * file keeps yours (p2-37). To keep yours (p1-34)'): the peer that notices a race writes the later value
 * again (conflicts.ts, a later-wins copy); a save taken in as stale over that copy records the value it
 * overwrote under the copy's writer — this peer — instead of the peer who wrote it.
 * Open (crdt/stalesave.ts changedSince takes the current item's client, not the alias's original writer):
 * it passed for a while at stop 30 (159bf5a to 1d07812's parent's parent) and fails again since 69ab94b (the
 * rest of a cut's rewrite going by the cut on ties), which changed which text this save is diffed against,
 * not the credit rule. Run it always (not only with CTXSYNC_KNOWN_OPEN=1) when fixed.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { idle, removeSpaceDirs, team, TODOS, type Node } from './harness.js'

afterAll(removeSpaceDirs)

const status = (text: string, v: string) => text.replace(/(- id: t0\n    title: [^\n]*\n    status: )[^\n]*/, `$1${v}`)
const listed = (n: Node) => n.s.conflicts().flatMap((c) => c.values.map((v) => `${c.display} ${v.raw} — ${v.author.name}`))

/** x shows its own x-1; y's later y-1 reaches x while x's editor saves x-2 over the file (x-1). */
async function scenario(first: 'a' | 'b'): Promise<string[]> {
  const [a, b] = (await team(['a', 'b'])) as [Node, Node]
  const [x, y] = first === 'a' ? [a, b] : [b, a]
  const nx = first, ny = first === 'a' ? 'b' : 'a'
  await x.edit(status((await x.file())!, `${nx}-1`))
  await idle(x.s)
  await new Promise((r) => setTimeout(r, 20))
  await y.edit(status((await y.file())!, `${ny}-1`))
  await idle(y.s)
  fs.writeFileSync(path.join(x.root, TODOS), status((await x.file())!, `${nx}-2`))
  const u = y.host().encodeDiff(TODOS, x.host().stateVector(TODOS))!
  await x.s.applyRemote(TODOS, u, y.id)
  await idle(x.s)
  return listed(x)
}

describe('a stale save over a value held as a later-wins copy', () => {
  // Known open and not deterministic (which write makes the copy follows the random client ids: the body
  // passed 1 run in 9 at ef03ad4's successors): run with CTXSYNC_KNOWN_OPEN=1.
  ;(process.env.CTXSYNC_KNOWN_OPEN ? it : it.skip)('names the value\'s writer, not the copier', async () => {
    // Which write Yjs keeps depends on the client ids: one of the two orders makes the copy.
    const seen = [...(await scenario('a')), ...(await scenario('b'))]
    console.log(seen)
    for (const line of seen) expect(line).toMatch(/ (a-\d — a|b-\d — b)$/)
  })
})

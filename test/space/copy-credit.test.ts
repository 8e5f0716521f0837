/**
 * Found by the network-faults ring (after 7df92f7 still about once a seed: 'you changed it at once; the
 * file keeps yours (p2-37). To keep yours (p1-34)'): the peer that notices a race writes the later value
 * again (conflicts.ts, a later-wins copy); a save taken in as stale over that copy recorded the value it
 * overwrote under the copy's writer — this peer — instead of the peer who wrote it (fixed by f7c18d0:
 * stalesave.ts records each live competitor by its original write). And the record listed x's own earlier
 * value beside the two live ones when Yjs had placed y's write right of it: x's save, written over y's,
 * had no origin path to x's earlier write, though every write has seen its own client's earlier ones
 * (heads.ts liveValues). Which write Yjs keeps follows the client ids: the two orders cover both.
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
  it.each(['a', 'b'] as const)('%s first: the record lists the live values only (y-1 and x-2, not x\'s own x-1), each named after its writer', async (first) => {
    const [nx, ny] = first === 'a' ? ['a', 'b'] : ['b', 'a']
    expect((await scenario(first)).sort()).toEqual([`todos[id=t0].status ${ny}-1 — ${ny}`, `todos[id=t0].status ${nx}-2 — ${nx}`].sort())
  })
})

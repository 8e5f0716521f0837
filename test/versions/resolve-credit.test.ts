/**
 * A resolution keeps a value someone wrote: blame names that writer, "(kept by RESOLVER)", on every peer, and
 * a conflict record lists each value with its writer — never the peer that resolved or kept it (black-box
 * tester, stop 29 finding 8: `blame` said `erin` after erin's offline resolve, not `bob (kept by erin)`;
 * records said "claude and gus changed it" about ann's value that claude had kept).
 */
import { afterAll, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { FileDocStore } from '../../src/fs/sidecar.js'
import { spacePaths } from '../../src/space/paths.js'
import { blameOf, versionsDirOf } from '../../src/space/versions/index.js'
import { idle, joinCode, Node, pass, removeSpaceDirs, SEED, team, TODOS } from '../space/harness.js'

afterAll(removeSpaceDirs)

const everyone = async (from: Node, all: Node[]) => { for (const n of all) if (n !== from) await pass(from, n) }
const STATUS = 'todos[id=t0].status'

/** blame reads the CRDT from the sidecar on disk (a daemon's store; the harness keeps it in memory). */
async function sidecar(n: Node): Promise<void> {
  const store = new FileDocStore({ dir: spacePaths(n.root).docs })
  await store.append(TODOS, n.host().encodeDiff(TODOS, Y.encodeStateVector(new Y.Doc()))!)
  await store.close()
}

async function blameStatus(n: Node) {
  await n.s.versions!.flushed()
  await sidecar(n)
  const l = (await blameOf(n.root, versionsDirOf(n.root), TODOS)).find((x) => x.path === STATUS)!
  return { value: JSON.parse(l.value) as string, by: l.authors.map((a) => a.name).join(','), kept: l.keptBy?.name ?? null }
}

/** ann writes done, bob blocked (later), each passed to every peer: a race on every peer. */
async function race(peers: Node[]): Promise<void> {
  const [ann, bob] = peers as [Node, Node]
  await ann.edit(SEED.replace('status: todo', 'status: done'))
  await bob.edit(SEED.replace('status: todo', 'status: blocked'))
  await everyone(ann, peers)
  await everyone(bob, peers)
}

for (const keep of ['done', 'blocked'] as const) {
  for (const offline of [false, true]) {
    it(`erin${offline ? ', offline (her space reopened to resolve),' : ''} keeps ${keep}: blame names its writer kept by erin on every peer`, async () => {
      const peers = await team(['ann', 'bob', 'erin'])
      const erin = peers[2]!
      await race(peers)
      if (offline) {
        await erin.close()
        await erin.start()
      }
      const c = erin.s.conflicts()[0]!
      expect(c.values.map((v) => `${v.value}:${v.author.name}`).sort()).toEqual(['blocked:bob', 'done:ann'])
      await erin.s.resolve(c.id, c.values.findIndex((v) => v.value === keep) + 1)
      await idle(erin.s)
      await everyone(erin, peers)
      const writer = keep === 'done' ? 'ann' : 'bob'
      // Keeping the value the file shows changes no text (no version says it): blame asks the CRDT.
      for (const n of peers) expect({ at: n.s.author.name, ...(await blameStatus(n)) }).toEqual({ at: n.s.author.name, value: keep, by: writer, kept: 'erin' })
      for (const n of peers) await n.close()
    })
  }
}

// erin keeps ann's value while gus, who has not seen her choice, writes his own: the new record's values are
// ann's and gus's (tester: "claude and gus changed it at once" about ann's value that claude had kept).
it("a race with a kept value names the value's writer, not the peer that kept it", async () => {
  const peers = await team(['ann', 'bob', 'erin', 'gus'])
  const [, , erin, gus] = peers as [Node, Node, Node, Node]
  await race(peers)
  const c = erin.s.conflicts()[0]!
  await erin.s.resolve(c.id, c.values.findIndex((v) => v.value === 'done') + 1)
  await idle(erin.s)
  await gus.edit((await gus.file())!.replace('status: blocked', 'status: review'))
  await everyone(erin, peers)
  await everyone(gus, peers)
  for (const n of peers) {
    const rec = n.s.conflicts().find((x) => x.display === STATUS)
    expect({ at: n.s.author.name, values: rec?.values.map((v) => `${v.value}:${v.author.name}`).sort() }).toEqual({ at: n.s.author.name, values: ['done:ann', 'review:gus'] })
  }
  for (const n of peers) await n.close()
})

// The tester's erin: offline, she kept bob's value of a race ann resolved meanwhile to her own. Both
// resolutions mark the same record (one mark wins on every peer): erin's write of bob's value was read as
// erin's value — "ann and you changed it at once; the file keeps yours (six-bob)" in erin's log.
it("two peers resolving one race at once, each keeping another's value: the new race names the values' writers", async () => {
  const peers = await team(['ann', 'bob', 'erin'])
  const [ann, , erin] = peers as [Node, Node, Node]
  await race(peers)
  for (const [n, keep] of [[ann, 'done'], [erin, 'blocked']] as const) {
    const c = n.s.conflicts()[0]!
    await n.s.resolve(c.id, c.values.findIndex((v) => v.value === keep) + 1)
    await idle(n.s)
    expect(await blameStatus(n)).toEqual({ value: keep, by: keep === 'done' ? 'ann' : 'bob', kept: n.s.author.name })
  }
  const lines: string[] = []
  const { logConflicts } = await import('../../src/space/conflictlog.js')
  const stop = logConflicts(erin.s, (l) => lines.push(l))
  await everyone(ann, peers)
  await everyone(erin, peers)
  // erin's choice is the later write: hers shows everywhere (on erin with no version: it changed no text).
  for (const n of peers) expect({ at: n.s.author.name, ...(await blameStatus(n)) }).toEqual({ at: n.s.author.name, value: 'blocked', by: 'bob', kept: 'erin' })
  for (const n of peers) {
    const rec = n.s.conflicts().find((x) => x.display === STATUS)
    expect({ at: n.s.author.name, values: rec?.values.map((v) => `${v.value}:${v.author.name}`).sort() }).toEqual({ at: n.s.author.name, values: ['blocked:bob', 'done:ann'] })
  }
  await vi.waitFor(() => expect(lines.find((l) => l.startsWith('conflict in'))).toBeDefined(), { timeout: 15_000 })
  stop()
  expect(lines.find((l) => l.startsWith('conflict in'))).not.toMatch(/\byou\b|yours/)
  for (const n of peers) await n.close()
})

// zed joins after erin kept ann's value: his first version is the whole file, and blame asks the CRDT, whose
// register holds erin's write of it — blame said `erin`, or named no keeper (tester: `erin` rather than
// `bob (kept by erin)`).
it("a peer joining after a resolution blames the kept value on its writer, kept by the resolver", async () => {
  const peers = await team(['ann', 'bob', 'erin'])
  const [ann, , erin] = peers as [Node, Node, Node]
  await race(peers)
  const c = erin.s.conflicts()[0]!
  await erin.s.resolve(c.id, c.values.findIndex((v) => v.value === 'done') + 1)
  await idle(erin.s)
  await everyone(erin, peers)
  const zed = await Node.make({ name: 'zed', join: await joinCode(ann.root) })
  await zed.start()
  await pass(ann, zed)
  expect(await zed.file()).toBe(await ann.file())
  expect(await blameStatus(zed)).toEqual({ value: 'done', by: 'ann', kept: 'erin' })
  for (const n of [...peers, zed]) await n.close()
})

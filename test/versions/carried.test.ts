/**
 * Only the peer that wrote a change is its author, in history, blame's record and the daemon's log (issue 16,
 * black-box tester): not a peer that received two values written at once and recorded the race (it wrote
 * bookkeeping, and a copy of the later value), nor the peers that change passed through. A file a peer
 * created names that peer on the peers that receive it.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { wireSpaceEvents } from '../../src/space/daemon.js'
import { historyOf, versionsDirOf } from '../../src/space/versions/index.js'
import { asDocName } from '../../src/ids.js'
import { idle, Node, pass, removeSpaceDirs, SEED, team, TODOS } from '../space/harness.js'

afterAll(removeSpaceDirs)

async function changes(n: Node, doc?: string) {
  await n.s.versions!.flushed()
  return (await historyOf(versionsDirOf(n.root), doc ? { doc } : {})).map((e) => ({ via: e.via, by: e.authors.map((a) => a.name), fields: e.fields.map((f) => f.path) }))
}

it('a race received and passed on is credited to its writer, not to the peers that carried it', async () => {
  const [ann, bob, cat, dan] = await team(['ann', 'bob', 'cat', 'dan'])
  await ann!.edit(SEED.replace('status: todo', 'status: done'))
  await dan!.edit(SEED.replace('status: todo', 'status: review'))
  // bob takes in both (a race: he records it and shows the later value), cat only hears of it from bob.
  await pass(ann!, bob!)
  await pass(dan!, bob!)
  // The daemon's log line for the write (`updated X (by …)`).
  let logged = ''
  cat!.s.on('file-written', (name: string) => (logged = cat!.s.versions!.who(name)))
  await pass(bob!, cat!)
  expect(await bob!.file()).toContain('status: review')
  expect((await changes(bob!))[0]).toEqual({ via: 'remote', by: ['dan'], fields: ['todos[id=t0].status'] })
  expect((await changes(cat!))[0]).toEqual({ via: 'remote', by: ['dan'], fields: ['todos[id=t0].status'] })
  expect(logged).toBe(' (by dan)')
  for (const n of [ann, bob, cat, dan]) await n!.close()
})

it('a file a peer created, or deleted, names it on the peers it reaches through another, and in their log', async () => {
  const [ann, bob, cat] = await team(['ann', 'bob', 'cat'])
  const lines: string[] = []
  wireSpaceEvents(cat!.s, (l) => lines.push(l))
  const NOTES = asDocName('.rhema/notes.yaml')
  await ann!.edit('notes:\n  - ship it\n', NOTES)
  await pass(ann!, bob!, NOTES)
  await pass(bob!, cat!, NOTES)
  for (const n of [bob!, cat!]) expect((await changes(n, NOTES)).map((c) => c.by)).toEqual([['ann']])
  await fs.rm(path.join(bob!.root, NOTES))
  await bob!.s.onLocalDelete(NOTES)
  await idle(bob!.s)
  await pass(bob!, cat!, NOTES)
  expect(await cat!.file(NOTES)).toBeNull()
  expect((await changes(cat!, NOTES))[0]!.by).toEqual(['bob'])
  expect(lines).toEqual(['updated .rhema/notes.yaml (by ann)', 'deleted .rhema/notes.yaml (by bob)'])
  for (const n of [ann, bob, cat]) await n!.close()
})

// bob's own resolve, keeping ann's value, said the same in his log whatever bob had recorded since ann's value
// came: it was named '(by ann)' when ann's losing value (which left bob's file as it was, so no version was
// made) was still among the pending authors at the write, and nobody otherwise (first-day e2e, by timing).
it.each(['nothing', 'an edit of his own'])("bob resolves to ann's value after %s: one log line, one change by ann kept by bob", async (since) => {
  const [ann, bob] = await team(['ann', 'bob'])
  await ann!.edit(SEED.replace('status: todo', 'status: done'))
  await bob!.edit(SEED.replace('status: todo', 'status: blocked'))
  await pass(ann!, bob!)
  expect(await bob!.file()).toContain('status: blocked')
  if (since !== 'nothing') await bob!.edit((await bob!.file())!.replace('title: second', 'title: second!'))
  const lines: string[] = []
  wireSpaceEvents(bob!.s, (l) => lines.push(l))
  const c = bob!.s.conflicts()[0]!
  await bob!.s.resolve(c.id, c.values.findIndex((v) => v.value === 'done') + 1)
  await idle(bob!.s)
  expect(await bob!.file()).toContain('status: done')
  expect(lines).toEqual(["updated .rhema/todos.yaml (resolved here: kept ann's value)"])
  const [last] = await changes(bob!)
  expect(last).toEqual({ via: 'resolve', by: ['ann'], fields: ['todos[id=t0].status'] })
  for (const n of [ann, bob]) await n!.close()
})

/** A seeded random number generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const STATUSES = ['todo', 'doing', 'review', 'done', 'blocked']
const SEEDS = (process.env.CTXSYNC_CARRIED_SEEDS ?? '1,2').split(',').map(Number)

// Three writers edit the two todos' fields at random while two relays only pass what they hold on (each
// pass a peer session's exchange): no relay is ever an author, on any peer, and a relay records no change of
// its own. Found the race-recording relay named as author (seed 1) before writers.ts.
it.each(SEEDS)('seed %i: relays that only pass changes on are never credited', async (seed) => {
  const r = rng(seed)
  const peers = await team(['w1', 'w2', 'w3', 'r1', 'r2'])
  const [writers, relays] = [peers.slice(0, 3), peers.slice(3)]
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!
  for (let step = 0; step < 24; step++) {
    if (r() < 0.4) {
      const w = pick(writers)
      const text = (await w.file())!
      const field = pick(['status', 'title'])
      const item = pick(['t0', 't1'])
      const value = field === 'status' ? pick(STATUSES) : `${item} by ${w.s.author.name} ${step}`
      const re = new RegExp(`(id: ${item}\\n    title: .*\\n    status: .*\\n)`)
      const block = re.exec(text)?.[1]
      if (!block) continue
      const next = block.replace(field === 'status' ? /status: .*/ : /title: .*/, `${field}: ${value}`)
      await w.edit(text.replace(block, next))
    } else {
      // Writers reach each other only through the relays.
      const [from, to] = r() < 0.5 ? [pick(writers), pick(relays)] : [pick(relays), pick([...writers, ...relays])]
      if (from !== to) await pass(from, to)
    }
  }
  for (const x of relays) for (const y of peers) if (x !== y) await pass(x, y)
  for (const n of peers) {
    for (const c of await changes(n)) {
      expect(c.by.filter((b) => b === 'r1' || b === 'r2'), `seed ${seed}: ${n.s.author.name} credits a relay`).toEqual([])
      if (relays.includes(n)) expect(c.via, `seed ${seed}: a relay recorded a change of its own`).not.toBe('local')
    }
  }
  for (const n of peers) await n.close()
})

// ann's value lost a race on bob (his own, later, stays shown): her writes left bob's file as it was. Kept
// pending, she was named an author of bob's next save — "a change by tom emptied the file" for bob's own
// truncation, and an undo of it refused as mixed (black-box tester, issue 16).
it("a peer's write that lost a race here is no author of this machine's next save", async () => {
  const [ann, bob] = await team(['ann', 'bob'])
  await ann!.edit(SEED.replace('status: todo', 'status: done'))
  await bob!.edit(SEED.replace('status: todo', 'status: blocked'))
  await pass(ann!, bob!)
  expect(await bob!.file()).toContain('status: blocked')
  await bob!.edit((await bob!.file())!.replace('title: second', 'title: second by bob'))
  const [last] = await changes(bob!)
  expect(last).toEqual({ via: 'local', by: ['bob'], fields: ['todos[id=t1].title'] })
  for (const n of [ann, bob]) await n!.close()
})

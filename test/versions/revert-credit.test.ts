/**
 * An `undo` or `restore` brings values back with their writers on every peer, not only on the undoing one
 * (issue 16): the undone change's text is known only where the undo ran, so the peers that received it
 * recorded the undoer's edit and blamed the undoer for every value it brought back, while the undoing peer
 * named the values' writers. The revert mark (crdt/schema.ts `RevertMark`) travels with the undo's writes.
 *
 * Property: after any schedule of writers' edits and undos, each passed to every peer, every peer's blame
 * equals every other's, and each undo is recorded as an undo (of the same change, as each peer names it).
 */
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { blameOf, historyOf, undoChange, versionsDirOf } from '../../src/space/versions/index.js'
import { leaveIntent } from '../../src/space/versions/intent.js'
import { textHash } from '../../src/space/versions/store.js'
import { spacePaths } from '../../src/space/paths.js'
import { Node, pass, removeSpaceDirs, SEED, team, TODOS } from '../space/harness.js'

afterAll(removeSpaceDirs)

const everyone = async (from: Node, all: Node[]) => { for (const n of all) if (n !== from) await pass(from, n) }

async function entries(n: Node) {
  await n.s.versions!.flushed()
  return historyOf(versionsDirOf(n.root), { doc: TODOS })
}

const blame = async (n: Node) => Object.fromEntries((await blameOf(n.root, versionsDirOf(n.root), TODOS)).map((l) => [l.path, l.authors.map((a) => a.name).join(',')]))

/** As `undoChange` writes it: the intent naming the text, then the save (the daemon's watcher would take it). */
async function undo(n: Node, text: string, of: { id: string; text: string | null }, via: 'undo' | 'restore' = 'undo'): Promise<void> {
  const dir = path.join(spacePaths(n.root).state, 'versions')
  await leaveIntent(dir, TODOS, { h: textHash(text), via, ...(via === 'undo' ? { of: of.id, ofHash: textHash(of.text) } : {}), at: Date.now() })
  await n.edit(text)
}

it("bob's change undone by ann brings cat's value back: cat's on every peer, an undo of bob's change on each", async () => {
  const peers = await team(['ann', 'bob', 'cat'])
  const [ann, bob, cat] = peers as [Node, Node, Node]
  const byCat = SEED.replace('title: first', 'title: first (cat)')
  await cat.edit(byCat)
  await everyone(cat, peers)
  const byBob = byCat.replace('title: first (cat)', 'title: first (bob)')
  await bob.edit(byBob)
  await everyone(bob, peers)
  const bobs = (await entries(ann))[0]!
  expect(bobs.authors.map((a) => a.name)).toEqual(['bob'])
  await undo(ann, byCat, { id: bobs.id, text: byBob })
  await everyone(ann, peers)
  for (const n of peers) {
    expect(await n.file()).toBe(byCat)
    const [last, undone] = await entries(n)
    expect({ peer: peers.indexOf(n), via: last!.via, by: last!.authors.map((a) => a.name) }).toEqual({ peer: peers.indexOf(n), via: 'undo', by: ['ann'] })
    expect(last!.of).toBe(undone!.id)
    expect((await blame(n))['todos[id=t0].title']).toBe('cat')
  }
  for (const n of peers) await n.close()
  // bob undoing his change again, as his history names it, would add its revert twice: refused on every peer.
  for (const n of [bob, cat]) {
    const [, undone] = await historyOf(versionsDirOf(n.root), { doc: TODOS })
    await expect(undoChange(n.root, { change: undone!.id })).rejects.toMatchObject({ code: 'already-undone' })
  }
})

it("a restore that brings back cat's value names cat on the peers that receive it", async () => {
  const peers = await team(['ann', 'bob', 'cat'])
  const [ann, bob, cat] = peers as [Node, Node, Node]
  const byCat = SEED.replace('status: todo', 'status: doing')
  await cat.edit(byCat)
  await everyone(cat, peers)
  await bob.edit(byCat.replace('status: doing', 'status: done'))
  await everyone(bob, peers)
  await undo(ann, byCat, { id: '', text: null }, 'restore')
  await everyone(ann, peers)
  for (const n of peers) {
    expect((await entries(n))[0]!.via).toBe('restore')
    expect((await blame(n))['todos[id=t0].status']).toBe('cat')
  }
  for (const n of peers) await n.close()
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

const SEEDS = (process.env.CTXSYNC_REVERT_SEEDS ?? '1,2').split(',').map(Number)
const FIELDS = ['title: first', 'status: todo', 'title: second']

// Writers set fields and undo their own or others' latest changes (as `undo CHANGE` would, with nothing
// changed since: the text before it), each step passed to every peer: blame agrees on every peer.
it.each(SEEDS)('seed %i: after edits and undos, every peer blames each field on the same writer', async (seed) => {
  const r = rng(seed)
  const peers = await team(['w1', 'w2', 'w3'])
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!
  for (let step = 0; step < 12; step++) {
    const n = pick(peers)
    const [last, before] = await entries(n)
    const now = (await n.file())!
    if (r() < 0.3 && last && before && last.via !== 'undo' && last.via !== 'start') {
      const prev = await undoText(n, before.id)
      if (prev !== null && prev !== now) await undo(n, prev, { id: last.id, text: now })
    } else {
      const lines = now.split('\n')
      const f = pick(FIELDS.map((x) => x.split(':')[0]!))
      const i = lines.findIndex((l) => l.trim().startsWith(`${f}:`))
      lines[i] = lines[i]!.replace(/:.*$/, `: ${f === 'status' ? pick(['doing', 'done', 'review']) : `${f} w${peers.indexOf(n)}.${step}`}`)
      await n.edit(lines.join('\n'))
    }
    await everyone(n, peers)
    const first = JSON.stringify(await blame(peers[0]!))
    for (const p of peers.slice(1)) expect({ seed, step, peer: peers.indexOf(p), blame: JSON.stringify(await blame(p)) }).toEqual({ seed, step, peer: peers.indexOf(p), blame: first })
  }
  for (const n of peers) await n.close()
})

async function undoText(n: Node, id: string): Promise<string | null> {
  const { fileAt } = await import('../../src/space/versions/index.js')
  return (await fileAt(n.root, versionsDirOf(n.root), id, TODOS)).text
}

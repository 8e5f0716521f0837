/**
 * A randomized multi-peer run of the real core, in process: 3–5 Spaces (each its own temp directory and
 * memory store) with the production SpaceHost behind PeerManagers over the in-memory network, and at random:
 *  - partitions and heals;
 *  - edits of the todos file written to disk and fed through `onLocalFile` (as the watcher would); each
 *    todo has one owner, the only one to edit it;
 *  - half-typed saves that hold the file (updates keep arriving) until a later save repairs it;
 *  - peers killed mid-traffic and restarted over the same store and files, sometimes after an offline edit.
 * At the end every peer's file is byte-identical, parses, holds no todo twice, every marker todo (one per
 * peer and step, never touched again) once, and each todo as its owner's last save left it (or gone).
 *
 * Seeds: fixed ones by default; CTXSYNC_SPACE_SEEDS=<n> adds n random seeds, CTXSYNC_SPACE_SEEDS=<a,b,…>
 * runs exactly those. A failure prints its seed.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { sha256hex } from '../../src/ids.js'
import { MemoryNet } from '../../src/net/memory.js'
import { PeerManager } from '../../src/net/peer-manager.js'
import { SEED_TODOS } from '../crdt/converge.js'
import { parseYaml } from '../../src/crdt/parse.js'
import { renderDoc } from '../../src/crdt/render.js'
import { mulberry32, newTodo, randomEdit, todos, todosList, type Rng } from '../crdt/mutate.js'
import { waitFor } from '../net/helpers.js'
import { idle, joinCode, Node, removeSpaceDirs, TODOS } from './harness.js'

afterAll(removeSpaceDirs)

function seeds(): number[] {
  const env = process.env.CTXSYNC_SPACE_SEEDS?.trim()
  if (env && env.includes(',')) return env.split(',').map(Number)
  const extra = env ? Number(env) : 0
  const base = Date.now() % 1_000_000
  return [1, 2, ...Array.from({ length: extra }, (_, i) => base + i)]
}

interface Peer {
  name: string
  node: Node
  m: PeerManager
  dials: string[]
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A save: read, edit and write in one synchronous stretch, so that no write-back of the Space lands in
 * between (that would be a stale save, another matter), then reported as the watcher would.
 */
async function save(p: Peer, edit: (text: string) => string): Promise<string | null> {
  const abs = path.join(p.node.root, TODOS)
  let text: string
  try {
    text = readFileSync(abs, 'utf8')
  } catch {
    return null // not arrived yet
  }
  const next = edit(text)
  if (next === text) return null
  writeFileSync(abs, next)
  await p.node.s.onLocalFile(TODOS, next, sha256hex(next))
  return next
}

/**
 * Half-typed YAML (an unclosed flow list): the file is held until the next save repairs it. Every other
 * kind of save repairs first, as the user finishing the line would.
 */
const BREAK = '  - [half typed\n'
const brake = (t: string): string => (t.includes(BREAK) ? t : `${t}${t.endsWith('\n') ? '' : '\n'}${BREAK}`)
const repair = (t: string): string => t.replace(BREAK, '')

/** Appends todo `id` at the list's own indentation (through the IR, as randomEdit edits). */
function addMarker(text: string, id: string, rng: Rng): string {
  const ir = parseYaml(text)
  const list = todosList(ir)
  if (!list) return text
  list.items.push(newTodo(id, rng))
  return renderDoc(ir)
}

async function run(seed: number): Promise<void> {
  const rng: Rng = mulberry32(seed)
  const n = 3 + Math.floor(rng() * 3)
  const names = Array.from({ length: n }, (_, i) => `p${i}`)
  const net = new MemoryNet()
  const first = await Node.make({ name: 'p0', files: { [TODOS]: SEED_TODOS } })
  const code = await joinCode(first.root)
  const peers: Peer[] = []
  const markers: string[] = []
  let kills = 0
  let holds = 0
  /** The daemon's wiring (daemon.ts), in process: SpaceHost behind a PeerManager on the memory network. */
  const connect = async (node: Node, name: string, dials: string[]): Promise<PeerManager> => {
    const m = new PeerManager({
      host: node.host(), secret: node.s.secret!, peers: dials, listen: { host: 'memory', port: 0 },
      dialer: net.dialerFor(name), listenerFactory: net.listenerFor(name), backoff: { baseMs: 5, maxMs: 40 },
      session: { ackDelayMs: 5 },
    })
    await m.start()
    return m
  }
  const idPool = Array.from({ length: 12 }, (_, i) => `t${i}`)
  const owned = (i: number) => (id: string) => id.startsWith('t') && Number(id.slice(1)) % n === i
  /**
   * Each owner's last word on its todos: only the owner edits, moves or deletes them, so whatever its last
   * save said of them (title, status, or gone) is what every file must say at the end.
   */
  const lastWord = new Map<string, string>()
  const note = (i: number, text: string | null): void => {
    if (text === null || text.includes(BREAK)) return
    const mine = new Map(todos(text).filter(([id]) => owned(i)(id)).map(([id, f]) => [id, f] as const))
    for (const id of idPool.filter(owned(i))) {
      const f = mine.get(id)
      lastWord.set(id, f ? `${f.get('title')} / ${f.get('status')}` : 'gone')
    }
  }
  try {
    for (const [i, name] of names.entries()) {
      const node = i === 0 ? first : await Node.make({ name: 'peer', join: code })
      await node.start()
      const dials = names.filter((_, j) => j === i + 1 || (j > i + 1 && rng() < 0.3)).map((x) => `memory://${x}`)
      peers.push({ name, node, m: await connect(node, name, dials), dials })
    }
    for (let step = 0; step < 30; step++) {
      const r = rng()
      if (r < 0.12) {
        const cut = 1 + Math.floor(rng() * (n - 1))
        net.partition([names.slice(0, cut), names.slice(cut)])
      } else if (r < 0.25) net.heal()
      const edits = 1 + Math.floor(rng() * 3)
      for (let e = 0; e < edits; e++) {
        const i = Math.floor(rng() * n)
        const p = peers[i]!
        const x = rng()
        if (x < 0.08) {
          if (await save(p, brake)) holds++
        } else if (x < 0.28) {
          const id = `m${i}x${step}x${e}`
          const saved = await save(p, (t) => addMarker(repair(t), id, rng))
          note(i, saved)
          if (saved) markers.push(id)
        } else {
          // Each todo has one owner (its number mod n): concurrent adds of one id would be two todos by design.
          note(i, await save(p, (t) => randomEdit(repair(t), rng, { idPool, owned: owned(i) }).text))
        }
      }
      await sleep(Math.floor(rng() * 12))
      if (rng() < 0.08) {
        // A crash mid-traffic: the store dies at once (whatever it had not taken is lost with the process),
        // the network goes, the Space is dropped unclosed. Sometimes the file is edited while it is down.
        // Then it starts again over the same store and files, as a restarted daemon.
        const i = Math.floor(rng() * n)
        const p = peers[i]!
        kills++
        p.node.store!.kill()
        net.drop(p.name)
        await p.m.stop()
        await p.node.kill()
        const abs = path.join(p.node.root, TODOS)
        const text = (() => { try { return readFileSync(abs, 'utf8') } catch { return null } })()
        if (text !== null && rng() < 0.5) {
          const id = `m${i}x${step}xoff`
          if (rng() < 0.5) {
            const next = addMarker(repair(text), id, rng)
            writeFileSync(abs, next)
            note(i, next)
            markers.push(id)
          } else {
            const next = randomEdit(repair(text), rng, { idPool, owned: owned(i) }).text
            writeFileSync(abs, next)
            note(i, next)
          }
        }
        await p.node.start()
        p.m = await connect(p.node, p.name, p.dials)
      }
    }
    // Whoever is still mid-typing finishes: every held file parses again.
    for (const [i, p] of peers.entries()) note(i, await save(p, repair))
    net.heal()
    const sv = (p: Peer) => JSON.stringify([...Y.decodeStateVector(p.node.host().stateVector(TODOS))].sort((a, b) => a[0] - b[0]))
    await waitFor(() => peers.every((p) => sv(p) === sv(peers[0]!)), 20_000, 'every peer holding the same state')
    for (const p of peers) await idle(p.node.s)
    const files = await Promise.all(peers.map((p) => p.node.file()))
    for (const [i, f] of files.entries()) expect(f, `${names[i]}'s file`).toBe(files[0])
    const list = todos(files[0]!)
    const ids = list.map(([id]) => id)
    expect(new Set(ids).size, `no todo twice: ${ids.join(' ')}`).toBe(ids.length)
    for (const m of markers) expect(ids, `marker ${m}`).toContain(m)
    const final = new Map(list.map(([id, f]) => [id, `${f.get('title')} / ${f.get('status')}`] as const))
    for (const [id, word] of lastWord) expect(final.get(id) ?? 'gone', `${id}: its owner's last save`).toBe(word)
    if (process.env.CTXSYNC_SPACE_TRACE) console.log(`seed ${seed}: ${n} peers, ${kills} kills, ${holds} holds, ${markers.length} markers, ${ids.length} todos, owners' last words: ${[...lastWord].slice(0, 3).map(([k, v]) => `${k}=${v}`).join('; ')}…`)
  } catch (err) {
    console.error(`in-process mesh failed: CTXSYNC_SPACE_SEEDS=${seed},${seed} (${n} peers, ${kills} kills, ${holds} holds)`)
    for (const p of peers) console.error(`--- ${p.name}\n${await p.node.file()}`)
    throw err
  } finally {
    await Promise.all(peers.map((p) => p.m.stop()))
    for (const p of peers) await p.node.close()
  }
}

describe('in-process mesh: random edits, partitions and heals over MemoryNet converge byte-identically', () => {
  for (const seed of seeds()) it(`seed ${seed}`, () => run(seed), 60_000)
})

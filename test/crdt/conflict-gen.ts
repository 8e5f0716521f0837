/**
 * A seeded generator of peer schedules for the conflict rules (issue 13 item 6), over real FileModels: 2–4
 * directly connected peers overwrite the same and different fields (values through the file text, like an
 * editor save), updates are delivered in random order, peers drop off (partitions) and come back, conflicts
 * are resolved, and one peer may stay stale until the very end. After a full exchange the oracle checks, on
 * every peer:
 *  - the same rendering and the same conflict list;
 *  - each field shows the latest-written of its live competitors (max `at`, then Yjs client, then the value);
 *  - the live competitors — the writes of the field that no other write of it had seen (tracked with the
 *    writer's state vector) — are exactly the values its conflict lists (none when they agree): every value
 *    overwritten concurrently is in the record, nothing superseded is, and a resolved conflict stays resolved
 *    (its values were seen by the resolution) however late a stale peer syncs.
 */
import * as Y from 'yjs'
import { parse } from 'yaml'
import { FileModel, type Conflict } from '../../src/crdt/model.js'
import { author } from './helpers.js'
import { mulberry32, pick, type Rng } from './mutate.js'

export const BASE = `todos:
  - id: t0
    title: a0
    status: todo
  - id: t1
    title: b0
    status: todo
`
const FIELDS = [
  ['t0', 'title'],
  ['t0', 'status'],
  ['t1', 'title'],
  ['t1', 'status'],
] as const
type Field = (typeof FIELDS)[number]

interface Write {
  peer: number
  client: number
  field: string
  value: string
  at: number
  /** The writer's state vector before the write, and its clock after it. */
  seen: Map<number, number>
  end: number
}

interface Peer {
  m: FileModel
  inbox: Uint8Array[]
  online: boolean
}

export type Failure = { kind: 'diverged' | 'winner' | 'listed' | 'lists-differ'; seed: number; detail: string }

export interface ScheduleResult {
  seed: number
  peers: number
  writes: number
  resolves: number
  conflicts: number
  failure: Failure | null
}

const fieldKey = (f: Field) => `${f[0]}.${f[1]}`

function valueOf(text: string, f: Field): string {
  const doc = parse(text) as { todos: Array<Record<string, unknown>> }
  return String(doc.todos.find((t) => t.id === f[0])![f[1]])
}

function setValue(text: string, f: Field, v: string): string {
  const lines = text.split('\n')
  const at = lines.findIndex((l) => l === `  - id: ${f[0]}`)
  for (let i = at + 1; i < lines.length && !lines[i]!.startsWith('  - '); i++) {
    if (lines[i]!.startsWith(`    ${f[1]}: `)) lines[i] = `    ${f[1]}: ${v}`
  }
  return lines.join('\n')
}

/** Runs one schedule; returns what it did and the first failed check (null when all hold). */
export function runSchedule(seed: number, opts: { steps?: number; debug?: boolean } = {}): ScheduleResult {
  const log = opts.debug ? (...a: unknown[]) => console.log(...a) : () => {}
  const rng: Rng = mulberry32(seed)
  const n = 2 + Math.floor(rng() * 3)
  const steps = opts.steps ?? 8 + Math.floor(rng() * 20)
  let clock = 1_700_000_000
  // Mostly whole seconds (old peers' values, and ties), sometimes milliseconds (new peers' values).
  const tick = () => (clock += rng() < 0.5 ? 0 : rng() < 0.5 ? 1 : 0.001 * (1 + Math.floor(rng() * 900)))
  const skew = Array.from({ length: n }, () => (rng() < 0.3 ? Math.floor(rng() * 3) - 1 : 0))
  const enrollment = FileModel.enrollment('.rhema/todos.yaml', BASE)
  const peers: Peer[] = []
  let now = 0
  for (let i = 0; i < n; i++) {
    const m = new FileModel({ name: '.rhema/todos.yaml', author: author(`p${i}`), clientId: 1000 + i * 7919 + (seed % 5000), now: () => now })
    m.load([enrollment])
    m.setBase(m.render())
    peers.push({ m, inbox: [], online: true })
  }
  peers.forEach((p, i) =>
    p.m.doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (typeof origin === 'object' && origin !== null && 'remote' in origin) return
      if (!p.online) return
      peers.forEach((q, j) => j !== i && q.online && q.inbox.push(u))
    }),
  )
  const stale = rng() < 0.5 ? n - 1 : -1
  if (stale >= 0) peers[stale]!.online = false
  const writes: Write[] = []
  let resolves = 0
  let counter = 0
  const write = (i: number, f: Field, v: string, act: () => void) => {
    const m = peers[i]!.m
    const seen = Y.decodeStateVector(Y.encodeStateVector(m.doc))
    now = clock + skew[i]!
    act()
    writes.push({ peer: i, client: m.doc.clientID, field: fieldKey(f), value: v, at: now, seen, end: Y.decodeStateVector(Y.encodeStateVector(m.doc)).get(m.doc.clientID) ?? 0 })
  }
  const deliver = (k: number) => {
    const q = peers[k]!
    if (q.inbox.length === 0) return
    const u = q.inbox.splice(Math.floor(rng() * q.inbox.length), 1)[0]!
    log(`deliver to p${k}`)
    q.m.applyRemote(u, `p?`)
  }
  const fullSync = (a: Peer, b: Peer) => {
    b.m.applyRemote(Y.encodeStateAsUpdate(a.m.doc, Y.encodeStateVector(b.m.doc)), 'sync')
    a.m.applyRemote(Y.encodeStateAsUpdate(b.m.doc, Y.encodeStateVector(a.m.doc)), 'sync')
  }
  for (let s = 0; s < steps; s++) {
    tick()
    const r = rng()
    const i = Math.floor(rng() * n)
    const p = peers[i]!
    if (r < 0.45) {
      // A save of the file as this peer shows it now, one field changed (several peers often at once).
      const burst = rng() < 0.5 ? n : 1
      const f = pick(rng, FIELDS)
      for (let b = 0; b < burst; b++) {
        const k = burst === 1 ? i : b
        const m = peers[k]!.m
        const shown = m.render()
        const text = shown.text!
        m.setBase(shown)
        const v = rng() < 0.1 ? 'same' : `v${++counter}`
        write(k, f, v, () => m.ingest(setValue(text, rng() < 0.3 ? pick(rng, FIELDS) : f, v)))
        // The generator asked for `f`; writes to the other field are found below from the text.
        const wrote = FIELDS.find((g) => valueOf(m.render().text!, g) === v && valueOf(text, g) !== v)
        const last = writes[writes.length - 1]!
        if (wrote) log(`p${k} writes ${fieldKey(wrote)}=${v} at ${now} clock ${last.end}`)
        if (wrote) last.field = fieldKey(wrote)
        else writes.pop()
      }
    } else if (r < 0.8) {
      for (let k = 0; k < 1 + Math.floor(rng() * 4); k++) deliver(Math.floor(rng() * n))
    } else if (r < 0.88) {
      if (i !== stale) {
        p.online = !p.online
        log(`p${i} ${p.online ? 'online' : 'offline'}`)
        if (p.online) for (const q of peers) if (q !== p && q.online) fullSync(p, q)
      }
    } else if (r < 0.95) {
      const cs = p.m.conflicts().filter((c) => c.kind === 'value')
      if (cs.length) {
        const c = pick(rng, cs)
        const take = 1 + Math.floor(rng() * c.values.length)
        const f = FIELDS.find((g) => fieldKey(g) === `${c.path[1]}.${c.path[2]}`)
        if (f) {
          log(`p${i} resolves ${c.path.join('.')} to ${c.values[take - 1]!.value}`)
          write(i, f, String(c.values[take - 1]!.value), () => p.m.resolve(c.id, take))
          resolves++
        }
      }
    } else if (p.online) {
      for (const q of peers) if (q !== p && q.online) fullSync(p, q)
    }
  }
  // Everyone back, everything delivered.
  for (const p of peers) p.online = true
  const svs = () => peers.map((p) => Y.encodeStateVector(p.m.doc).join()).join('|')
  for (let round = 0, last = ''; round < 8 && last !== svs(); round++) {
    last = svs()
    for (let k = 1; k < peers.length; k++) fullSync(peers[0]!, peers[k]!)
    for (let k = 1; k < peers.length; k++) fullSync(peers[0]!, peers[k]!)
  }
  if (opts.debug) for (const [k, v] of peers[0]!.m.doc.getMap('c')) console.log('rec', k, JSON.stringify(v), peers[0]!.m.doc.getMap('x').has(k) ? 'RESOLVED' : '')
  const failure = check(seed, peers, writes)
  const conflicts = peers[0]!.m.conflicts().length
  for (const p of peers) p.m.destroy()
  return { seed, peers: n, writes: writes.length, resolves, conflicts, failure }
}

function check(seed: number, peers: Peer[], writes: Write[]): Failure | null {
  const texts = peers.map((p) => p.m.render().text!)
  for (let k = 1; k < texts.length; k++) if (texts[k] !== texts[0]) return { kind: 'diverged', seed, detail: `peer${k}:\n${texts[k]}\npeer0:\n${texts[0]}` }
  const lists = peers.map((p) => JSON.stringify(p.m.conflicts()))
  for (let k = 1; k < lists.length; k++) if (lists[k] !== lists[0]) return { kind: 'lists-differ', seed, detail: `peer${k}: ${lists[k]}\npeer0: ${lists[0]}` }
  const conflicts: Conflict[] = peers[0]!.m.conflicts()
  for (const f of FIELDS) {
    const ws = writes.filter((w) => w.field === fieldKey(f))
    const seenBy = (a: Write, b: Write) => (b.seen.get(a.client) ?? 0) >= a.end
    const heads = ws.filter((w) => !ws.some((o) => o !== w && seenBy(w, o)))
    const shown = valueOf(texts[0]!, f)
    const c = conflicts.find((x) => x.path[1] === f[0] && x.path[2] === f[1])
    const listed = c ? [...new Set(c.values.map((v) => String(v.value)))].sort() : []
    if (heads.length === 0) {
      if (listed.length) return { kind: 'listed', seed, detail: `${fieldKey(f)}: never written, conflict lists ${listed}` }
      continue
    }
    const best = heads.reduce((a, b) => (b.at > a.at || (b.at === a.at && (b.client > a.client || (b.client === a.client && b.value > a.value))) ? b : a))
    const distinct = [...new Set(heads.map((h) => h.value))].sort()
    const expectBest = distinct.length === 1 ? distinct[0]! : best.value
    if (shown !== expectBest) {
      return { kind: 'winner', seed, detail: `${fieldKey(f)} shows ${shown}, latest live write is ${expectBest}; heads ${heads.map((h) => `${h.value}@${h.at}/p${h.peer}`).join(', ')}` }
    }
    const want = distinct.length > 1 ? distinct : []
    if (JSON.stringify(listed) !== JSON.stringify(want)) {
      return { kind: 'listed', seed, detail: `${fieldKey(f)}: conflict lists [${listed}], live competitors [${want}] (shows ${shown}); writes ${ws.map((w) => `${w.value}@${w.at}/p${w.peer}`).join(', ')}` }
    }
  }
  return null
}

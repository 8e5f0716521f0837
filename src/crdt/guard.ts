/**
 * The check every update from a peer or relay passes before it touches a document, and the check of a
 * state loaded from disk. Pure: it reads a `Y.Doc` and update bytes, and says what is wrong, if anything.
 *
 * A peer that holds the secret can still send anything Yjs can decode. A valid update of ~50 bytes
 * (an indentation of 200,000,000) made every peer that received it allocate gigabytes, and failed every
 * restart once stored; two nodes placed under each other spun every daemon forever. So, before applying,
 * each register the update would write is found (its map and key; Yjs leaves both out of an item that
 * extends an earlier one, so they are looked up through its origin, in the document or in the update
 * itself) and checked against the schema of `schema.ts` and the limits of `limits.ts`:
 *  - only the four maps of the schema, only plain values (no nested types, subdocuments, text or binary
 *    content), one value per register, keys of the form `<node><attr>` or `<node>+<client>`;
 *  - each attribute's shape and sizes (`[parent, order, key?]`, `[descriptor, time]` with a known kind and
 *    an indentation within MAX_INDENT, strings within MAX_VALUE_CHARS, tombstones that decode);
 *  - placements: a node keeps the parent its id was derived from (ids are hashes of the parent, so an
 *    honest peer never moves one), so no cycle, and no node deeper than MAX_DEPTH;
 *  - at most MAX_REGISTERS registers in the document afterwards.
 * Every value that could win its register is checked, not only the one that will: a refusal never
 * depends on which concurrent write Yjs keeps. Items that cannot be placed yet (their origin has not
 * arrived) wait in Yjs as pending structs; they are checked with the update that lets them in.
 *
 * A refusal is a `Refusal` (kind + plain reason); the caller closes the session and stores nothing.
 */
import * as Y from 'yjs'
import { AUTHORS, CONFLICTS, GIT_MARKS, NODES, RESOLVED, ROOT, type NodeId } from './schema.js'
import { MAX_DEPTH, MAX_INDENT, MAX_KEY_CHARS, MAX_REGISTERS, MAX_TOMBSTONE_BYTES, MAX_VALUE_CHARS } from './limits.js'

export type RefusalKind = 'malformed' | 'type' | 'key' | 'value' | 'indent' | 'size' | 'placement' | 'cycle' | 'depth' | 'count'

export interface Refusal {
  kind: RefusalKind
  reason: string
}

/** An update refused by `checkUpdate`, for callers that throw. */
export class RefusedUpdateError extends Error {
  constructor(
    readonly kind: RefusalKind,
    readonly reason: string,
  ) {
    super(reason)
    this.name = 'RefusedUpdateError'
  }
}

const MAPS = new Set([NODES, CONFLICTS, RESOLVED, AUTHORS, GIT_MARKS])
const NODE_ID = /^(?:R|[A-Za-z0-9_-]{10})$/
const REGISTER = /^(R|[A-Za-z0-9_-]{10})(?:([okhstvd])|\+(\d{1,10}))$/
const SIZED_INDENT = /^-?\d{1,10}$/

class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.reason)
  }
}

function refuse(kind: RefusalKind, reason: string): never {
  throw new Refused({ kind, reason })
}

const short = (s: string) => JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)
const isStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
/** A `Credit` (schema.ts): who wrote a change taken in from git or a value a resolution kept, and when. */
const isCredit = (v: unknown): boolean =>
  Array.isArray(v) && v.length === 4 && isStr(v[0], 128) && isStr(v[1], MAX_KEY_CHARS) && (v[2] === 'human' || v[2] === 'agent') && isNum(v[3])

function str(v: unknown, max: number, what: string): void {
  if (typeof v !== 'string') refuse('type', `${what} is not a string`)
  if (v.length > max) refuse('size', `${what} holds ${v.length} characters (the limit is ${max})`)
}

function indent(n: string, what: string): void {
  if (!SIZED_INDENT.test(n)) refuse('value', `${what}: the indentation ${short(n)} is not a number`)
  const i = Number(n)
  if (Math.abs(i) > MAX_INDENT) refuse('indent', `${what}: an indentation of ${i} columns (the limit is ${MAX_INDENT})`)
}

/** A value descriptor (`Desc` in schema.ts). */
function checkDesc(d: string, what: string): void {
  switch (d[0]) {
    case '=':
    case '!':
    case '[':
    case '{':
      return
    case 'M':
    case 'S':
      return indent(d.slice(1), what)
    case '|': {
      const colon = d.indexOf(':')
      if (colon < 0) refuse('value', `${what}: a block scalar without a header`)
      return indent(d.slice(1, colon), what)
    }
    case '~':
      if (d === '~') return
  }
  refuse('value', `${what}: unknown value kind ${short(d.slice(0, 1))}`)
}

/** One register of the node map, `attr` being its attribute or null for a counter. */
function checkNodeRegister(id: string, attr: string | undefined, v: unknown, key: string): void {
  const what = `register ${short(key)}`
  if (attr === undefined) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) refuse('value', `${what}: a counter that is not a whole number`)
    return
  }
  switch (attr) {
    case 'o': {
      if (id === ROOT) refuse('placement', 'the root placed under another node')
      if (!Array.isArray(v) || (v.length !== 2 && v.length !== 3)) refuse('type', `${what}: a placement is [parent, order, key?]`)
      if (typeof v[0] !== 'string' || !NODE_ID.test(v[0])) refuse('placement', `${what}: the parent ${short(String(v[0]))} is not a node id`)
      if (v[0] === id) refuse('cycle', `${what}: a node placed under itself`)
      str(v[1], MAX_KEY_CHARS, `${what}: the order key`)
      if (v.length === 3) str(v[2], MAX_KEY_CHARS, `${what}: the key`)
      return
    }
    case 'v': {
      if (!Array.isArray(v) || v.length !== 2) refuse('type', `${what}: a value is [descriptor, time]`)
      str(v[0], MAX_VALUE_CHARS, what)
      if (!isNum(v[1])) refuse('value', `${what}: the time is not a number`)
      return checkDesc(v[0] as string, what)
    }
    case 'd': {
      if (v === null) return
      if (!Array.isArray(v) || v.length !== 2 || !(v[0] instanceof Uint8Array) || !isNum(v[1])) refuse('type', `${what}: a tombstone is [state vector, time]`)
      const sv = v[0] as Uint8Array
      if (sv.length > MAX_TOMBSTONE_BYTES) refuse('size', `${what}: a tombstone of ${sv.length} bytes`)
      try {
        Y.decodeStateVector(sv)
      } catch {
        refuse('value', `${what}: a tombstone whose state vector does not decode`)
      }
      return
    }
    case 'k':
      return str(v, MAX_KEY_CHARS, what)
    default:
      return str(v, MAX_VALUE_CHARS, what)
  }
}

/** Checks one register of any map; returns the node id and parent when it is a placement. */
function checkRegister(map: string, key: string, v: unknown): [NodeId, NodeId] | null {
  if (map === NODES) {
    const m = REGISTER.exec(key)
    if (!m) refuse('key', `${short(key)} is not a register of the schema`)
    checkNodeRegister(m[1]!, m[2], v, key)
    return m[2] === 'o' ? [m[1]!, (v as string[])[0]!] : null
  }
  if (key.length > MAX_KEY_CHARS) refuse('size', `a key of ${key.length} characters in map ${map}`)
  const ok =
    map === CONFLICTS
      ? Array.isArray(v) && v.length === 2 && v.every((r) => Array.isArray(r) && r.length === 3 && isStr(r[0], MAX_VALUE_CHARS) && isNum(r[1]) && isNum(r[2]))
      : map === RESOLVED
        ? Array.isArray(v) && (v.length === 2 || (v.length === 3 && isCredit(v[2]))) && isNum(v[0]) && isNum(v[1])
        : map === GIT_MARKS
          ? /^[0-9a-f]{16}$/.test(key) && Array.isArray(v) && (v.length === 2 || (v.length === 3 && isCredit(v[2]))) && isStr(v[0], 128) && isNum(v[1])
          : /^\d{1,10}$/.test(key) && Array.isArray(v) && v.length === 3 && v.every((s) => isStr(s, MAX_KEY_CHARS))
  if (!ok) refuse('type', `${short(key)} in map ${map} does not have the shape of the schema`)
  return null
}

/** Where an item of the update lands: a map and key, or nowhere yet (its origin has not arrived). */
type Target = { map: string; key: string } | 'pending' | 'gc'

class Resolver {
  private readonly byClient = new Map<number, Y.Item[]>()
  private readonly memo = new Map<Y.Item, Target>()

  constructor(
    private readonly doc: Y.Doc,
    items: Y.Item[],
  ) {
    for (const it of items) {
      let list = this.byClient.get(it.id.client)
      if (!list) this.byClient.set(it.id.client, (list = []))
      list.push(it)
    }
    for (const list of this.byClient.values()) list.sort((a, b) => a.id.clock - b.id.clock)
  }

  /** The struct holding `id`, in the document or in the update; null when neither has it. */
  private find(id: Y.ID): Y.Item | Y.GC | null {
    if (id.clock < Y.getState(this.doc.store, id.client)) return Y.getItem(this.doc.store, id) as Y.Item | Y.GC
    const list = this.byClient.get(id.client)
    if (!list) return null
    let lo = 0
    let hi = list.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const it = list[mid]!
      if (id.clock < it.id.clock) hi = mid - 1
      else if (id.clock >= it.id.clock + it.length) lo = mid + 1
      else return it
    }
    return null
  }

  private named(map: string, key: string | null): Target {
    if (!MAPS.has(map)) refuse('type', `a write to ${short(map)}, which the schema does not have`)
    if (key === null) refuse('type', `a list insertion into map ${map}`)
    return { map, key }
  }

  /**
   * The root name of a type, looked up when needed: `getMap` on a document whose map so far was a generic
   * type (a relay's documents are never typed) replaces the type object, so a table made earlier goes stale.
   */
  private rootName(type: unknown): string | undefined {
    for (const [name, t] of this.doc.share) if (t === type) return name
    return undefined
  }

  /** Follows origins iteratively (a register overwritten many times is a long chain). */
  target(item: Y.Item): Target {
    // Most items name their map and key themselves (a register's first write): no chain to follow.
    if (typeof item.parent === 'string' && !this.memo.has(item)) return this.named(item.parent, item.parentSub)
    const chain: Y.Item[] = []
    const seen = new Set<Y.Item>()
    let out: Target | undefined
    for (let cur: Y.Item = item; out === undefined; ) {
      const known = this.memo.get(cur)
      if (known !== undefined) {
        out = known
        break
      }
      chain.push(cur)
      seen.add(cur)
      if (typeof cur.parent === 'string') {
        out = this.named(cur.parent, cur.parentSub)
        break
      }
      if (cur.parent !== null) refuse('type', 'a write into a nested type, which the schema does not have')
      const left = cur.origin ? this.find(cur.origin) : null
      const right = cur.rightOrigin ? this.find(cur.rightOrigin) : null
      if ((cur.origin && !left) || (cur.rightOrigin && !right)) {
        out = 'pending'
        break
      }
      const from = left instanceof Y.Item ? left : right instanceof Y.Item ? right : null
      if (!from) {
        out = left || right ? 'gc' : refuse('malformed', 'an item without a parent')
        break
      }
      if (from.id.clock < Y.getState(this.doc.store, from.id.client)) {
        const name = this.rootName(from.parent)
        if (name === undefined || from.parentSub === null) refuse('type', 'a write next to content outside the schema')
        out = { map: name, key: from.parentSub }
        break
      }
      if (seen.has(from)) {
        out = 'pending' // origins in a loop: Yjs can never integrate them
        break
      }
      cur = from
    }
    for (const c of chain) this.memo.set(c, out)
    return out
  }
}

/** What one update would do to `doc`, checked; null when it may be applied. */
export function checkUpdate(doc: Y.Doc, update: Uint8Array): Refusal | null {
  try {
    let structs: Array<Y.Item | Y.GC | Y.Skip>
    try {
      structs = Y.decodeUpdate(update).structs
      const pending = doc.store.pendingStructs
      if (pending) structs = structs.concat(Y.decodeUpdate(pending.update).structs)
    } catch {
      return { kind: 'malformed', reason: 'the update does not decode' }
    }
    const store = doc.store
    // Typed first: it may replace the generic type a relay's document holds (see Resolver.rootName).
    const nodes = doc.getMap(NODES)
    const items = structs.filter((s): s is Y.Item => s instanceof Y.Item && s.id.clock + s.length > Y.getState(store, s.id.client))
    const resolver = new Resolver(doc, items)
    const placed = new Map<NodeId, NodeId>()
    const added = new Set<string>()
    for (const it of items) {
      const content = it.content
      if (content instanceof Y.ContentDeleted) continue
      if (!(content instanceof Y.ContentAny)) refuse('type', `${content.constructor.name} content, which the schema does not have`)
      const t = resolver.target(it)
      if (t === 'pending' || t === 'gc') continue
      // Several values: a client's consecutive writes of this register, joined by Yjs once overwritten (all
      // but the last are deleted); a document that keeps deleted content sends them so. Each is checked as a
      // write of its own (refusing them cut a peer off for good: network-faults test, relay seed 857826).
      const arr = (content as unknown as { arr: unknown[] }).arr
      if (t.map === NODES && !nodes.has(t.key)) added.add(t.key)
      for (const v of arr) {
        const p = checkRegister(t.map, t.key, v)
        if (!p) continue
        const other = placed.get(p[0])
        if (other !== undefined && other !== p[1]) refuse('placement', `node ${p[0]} placed under two parents`)
        placed.set(p[0], p[1])
      }
    }
    // Every key ever written (`Y.Map.size` walks them all to skip deleted ones: O(n) for each update).
    const registers = (nodes as unknown as { _map: Map<string, unknown> })._map.size + added.size
    if (registers > MAX_REGISTERS) refuse('count', `the document would hold ${registers} registers (the limit is ${MAX_REGISTERS})`)
    checkPlacements(placed, (id) => parentIn(nodes, id))
    return null
  } catch (e) {
    if (e instanceof Refused) return e.refusal
    // Anything Yjs itself throws on odd input is a malformed update, never a crash of the receiver.
    return { kind: 'malformed', reason: `the update cannot be read (${(e as Error)?.message ?? String(e)})` }
  }
}

function parentIn(nodes: Y.Map<unknown>, id: NodeId): NodeId | undefined {
  const p = nodes.get(id + 'o')
  return Array.isArray(p) && typeof p[0] === 'string' ? p[0] : undefined
}

/**
 * Every new placement keeps its node's parent and leaves it within MAX_DEPTH of the root (or of the top of
 * a chain whose parent has not arrived); walks share what they learnt, so a whole document costs O(n).
 */
function checkPlacements(placed: Map<NodeId, NodeId>, existing: (id: NodeId) => NodeId | undefined): void {
  const parent = (id: NodeId) => placed.get(id) ?? existing(id)
  const dist = new Map<NodeId, number>()
  for (const [id, p] of placed) {
    const was = existing(id)
    if (was !== undefined && was !== p) refuse('placement', `node ${id} moved to another parent (node ids are derived from their parent)`)
    if (was === p) continue
    depthOf(id, parent, dist)
  }
}

/** Steps from `id` up to the root (or the top of its chain), refusing cycles and chains over MAX_DEPTH. */
function depthOf(id: NodeId, parent: (id: NodeId) => NodeId | undefined, dist: Map<NodeId, number>): number {
  const path: NodeId[] = []
  const onPath = new Set<NodeId>()
  let base = 0
  for (let cur: NodeId | undefined = id; ; ) {
    if (cur === undefined || cur === ROOT) break
    const known = dist.get(cur)
    if (known !== undefined) {
      base = known
      break
    }
    if (onPath.has(cur)) refuse('cycle', `nodes placed in a cycle (${path.slice(path.indexOf(cur)).join(' → ')} → ${cur})`)
    path.push(cur)
    onPath.add(cur)
    if (path.length > MAX_DEPTH) refuse('depth', `a chain of nodes deeper than ${MAX_DEPTH} levels`)
    cur = parent(cur)
  }
  for (let i = path.length - 1, d = base + 1; i >= 0; i--, d++) {
    if (d > MAX_DEPTH) refuse('depth', `a chain of nodes deeper than ${MAX_DEPTH} levels`)
    dist.set(path[i]!, d)
  }
  return dist.get(id) ?? 0
}

/**
 * The whole stored state of a document, checked like an update (a state stored by an older version, or
 * read from a damaged disk): null when it is within the schema and the limits.
 */
export function checkState(doc: Y.Doc): Refusal | null {
  try {
    for (const [name, type] of doc.share) {
      if (MAPS.has(name)) continue
      if (type._start !== null || type._map.size > 0) refuse('type', `content under ${short(name)}, which the schema does not have`)
    }
    const placed = new Map<NodeId, NodeId>()
    let registers = 0
    for (const name of MAPS) {
      if (!doc.share.has(name)) continue
      const map = doc.getMap(name)
      if (map._start !== null) refuse('type', `a list inside map ${name}`)
      for (const [key, item] of map._map) {
        if (item.deleted) continue
        if (!(item.content instanceof Y.ContentAny)) refuse('type', `${item.content.constructor.name} content in map ${name}`)
        const arr = (item.content as unknown as { arr: unknown[] }).arr
        const p = checkRegister(name, key, arr[arr.length - 1])
        if (p) placed.set(p[0], p[1])
        registers++
      }
    }
    if (registers > MAX_REGISTERS) refuse('count', `${registers} registers (the limit is ${MAX_REGISTERS})`)
    const dist = new Map<NodeId, number>()
    for (const id of placed.keys()) depthOf(id, (x) => placed.get(x), dist)
    return null
  } catch (e) {
    if (e instanceof Refused) return e.refusal
    throw e
  }
}

/**
 * Which data is which, for `datamerge.ts`: equality of YAML data (mapping key order does not count), and
 * which old list item each item of a library dump's list is — by identity key, then equal data, then
 * position between matched neighbours — so an edited item keeps its text and comments, and a removed one
 * does not shift its neighbours' values onto each other. Like `match.ts`, but on loaded data: a dump's
 * formatting says nothing about which item is which. Also: data read with aliases and merge keys resolved
 * (`resolveData`), and the scalars read and written without a whole parse.
 */

import { parseDocument, stringify, visit } from 'yaml'
import { valueOf } from './canonical.js'
import type { DocIR, Node } from './ir.js'

export type Obj = Record<string, unknown>
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Deep equality of YAML data, ignoring mapping key order. */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b)
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameData(x, b[i]))
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameData(a[k], b[k]))
  }
  return false
}

/**
 * Which old item each wanted item is (index into `have`, or undefined for a new one): the same identity
 * value, then equal data, then — between neighbours already matched — the old items left, in order, when
 * they are of the same shape (an edited item).
 */
export function matchData(have: unknown[], want: unknown[], identity: readonly string[]): Array<number | undefined> {
  const pairs: Array<number | undefined> = new Array(want.length)
  const used = new Set<number>()
  const idOf = (v: unknown) => {
    if (!isObj(v)) return undefined
    for (const k of identity) {
      const x = v[k]
      if (x !== undefined && x !== null && typeof x !== 'object') return `${k}\u0000${String(x)}`
    }
    return undefined
  }
  const byId = new Map<string, number>()
  have.forEach((v, i) => {
    const id = idOf(v)
    if (id !== undefined && !byId.has(id)) byId.set(id, i)
  })
  want.forEach((w, j) => {
    const id = idOf(w)
    const i = id === undefined ? undefined : byId.get(id)
    if (i !== undefined && !used.has(i)) {
      pairs[j] = i
      used.add(i)
    }
  })
  // Equal data, preferring the old item nearest after the last one matched (keeps order where it was).
  let cursor = 0
  want.forEach((w, j) => {
    if (pairs[j] !== undefined) return void (cursor = pairs[j]! + 1)
    let found = -1
    for (let k = 0; k < have.length && found < 0; k++) {
      const i = (cursor + k) % have.length
      if (!used.has(i) && idOf(have[i]) === idOf(w) && sameData(have[i], w)) found = i
    }
    if (found >= 0) {
      pairs[j] = found
      cursor = found + 1
      used.add(found)
    }
  })
  // Gaps: the unmatched wanted items between two matches take the unmatched old items there. As many of
  // each: in order (edited items). Otherwise the pairing, in order, that keeps the most fields equal: in
  // order alone, a new item inserted before an edited one took the edited one's text and comments, and the
  // edited one was written as new (keep-format dump seeds 91706, 34647).
  const fits = (i: number, w: unknown) =>
    !used.has(i) && isObj(have[i]) === isObj(w) && Array.isArray(have[i]) === Array.isArray(w) &&
    // An item whose identity changed is the same item only if most of its other fields stayed.
    !(idOf(have[i]) !== undefined && idOf(w) !== undefined && !similar(have[i] as Obj, w as Obj, identity))
  let j = 0
  while (j < want.length) {
    if (pairs[j] !== undefined) {
      j++
      continue
    }
    const start = j
    while (j < want.length && pairs[j] === undefined) j++
    const lo = start > 0 ? pairs[start - 1]! : -1
    const hi = j < want.length ? pairs[j]! : have.length
    const olds: number[] = []
    for (let i = lo + 1; i < hi; i++) if (!used.has(i)) olds.push(i)
    const wants = Array.from({ length: j - start }, (_, k) => start + k)
    for (const [i, k] of pairGap(olds, wants, (i, k) => (fits(i, want[k]) ? 1 + sharedFields(have[i], want[k]) : -1))) {
      pairs[k] = i
      used.add(i)
    }
  }
  return pairs
}

/** Fields two items hold with equal data (0 unless both are mappings). */
function sharedFields(a: unknown, b: unknown): number {
  if (!isObj(a) || !isObj(b)) return 0
  let n = 0
  for (const k of Object.keys(a)) if (Object.hasOwn(b, k) && sameData(a[k], b[k])) n++
  return n
}

/**
 * Pairs of `olds` and `wants` (each in order) for one gap: with as many of each that fit in order, or too
 * many to weigh, the first fitting old item left for each wanted one; otherwise the order-keeping pairing of
 * the highest total `score` (negative: no pair).
 */
function pairGap(olds: number[], wants: number[], score: (old: number, want: number) => number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  const [m, n] = [olds.length, wants.length]
  if (m === 0 || n === 0) return out
  // As many of each, in order, when each fits the one at its place; an item whose kind changed (a mapping
  // emptied to `[]`) does not, and in order alone the edited item after it took the one before's place
  // (dump seed 259304: a step rewritten whole, its block scalar quoted).
  if ((m === n && olds.every((i, x) => score(i, wants[x]!) >= 0)) || m * n > 40_000) {
    const taken = new Set<number>()
    for (const k of wants) {
      const i = olds.find((x) => !taken.has(x) && score(x, k) >= 0)
      if (i === undefined) continue
      out.push([i, k])
      taken.add(i)
    }
    return out
  }
  const s = olds.map((i) => wants.map((k) => score(i, k)))
  const best = Array.from({ length: m + 1 }, () => new Array<number>(n + 1).fill(0))
  for (let x = 1; x <= m; x++)
    for (let y = 1; y <= n; y++) {
      const pair = s[x - 1]![y - 1]! >= 0 ? best[x - 1]![y - 1]! + s[x - 1]![y - 1]! : -1
      best[x]![y] = Math.max(best[x - 1]![y]!, best[x]![y - 1]!, pair)
    }
  for (let x = m, y = n; x > 0 && y > 0; ) {
    if (best[x]![y] === best[x - 1]![y]) x--
    else if (best[x]![y] === best[x]![y - 1]) y--
    else {
      out.unshift([olds[x - 1]!, wants[y - 1]!])
      x--
      y--
    }
  }
  return out
}

function similar(a: Obj, b: Obj, identity: readonly string[]): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => !identity.includes(k)))
  let same = 0
  for (const k of keys) if (Object.hasOwn(a, k) && Object.hasOwn(b, k) && sameData(a[k], b[k])) same++
  return keys.size > 0 && same * 2 >= keys.size
}

/**
 * A data change the text cannot take where it lives: a value inside an anchored node (every alias and merge
 * key using the anchor would change with it, where the dump changed it at one place), or a key a merge key
 * brings removed. The caller takes the dump as it is, with this message.
 */
export class Unwritable extends Error {}

export interface Anchor {
  name: string
  flow: boolean
}

/**
 * The data of each node of `ir` (parsed from `text`) as a library loads it — `*alias` as the anchored value,
 * `<<:` merged into its map (PyYAML's `safe_load`, black-box tester stop 30 finding 4) — into `memo`: an opaque
 * node (an anchor, an alias) stands for what it resolves to. False when the text does not load.
 */
export function resolveData(ir: DocIR, text: string, memo: WeakMap<Node, unknown>): boolean {
  const data = loadData(text)
  if (data === undefined) return false
  const walk = (n: Node, v: unknown): void => {
    memo.set(n, v)
    if ((n.t === 'map' || n.t === 'fmap') && isObj(v)) for (const e of n.entries) e.key !== '<<' && walk(e.value, v[e.key])
    else if ((n.t === 'seq' || n.t === 'fseq') && Array.isArray(v)) n.items.forEach((it, i) => walk(it.value, v[i]))
  }
  if (ir.root) walk(ir.root, data)
  return true
}

/**
 * A plain scalar YAML 1.2 reads as a number that only a YAML 1.1 writer puts in a dump for a string: PyYAML
 * writes '08', '0o17', '1e3' plain (no int or float in 1.1) where a 1.2 reader sees 8, 15, 1000. No library
 * writes a number so (PyYAML quotes '012', writes 1e3 as 1000.0; the yaml package writes 1000, 1e+21), so
 * read as the string it was: a PyYAML dump of a file holding '08' wrote `8` (the dump generator, rhema.yaml).
 */
const YAML11_STRING = /^(?:[-+]?0[0-9]*[89][0-9]*|0o[0-7]+|[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][0-9]+)$/

/** A text's data as a library loads it: aliases resolved, merge keys merged, YAML 1.1 strings (above) as strings; undefined when it does not load. */
export function loadData(text: string): unknown {
  try {
    // logLevel: a tag no schema knows (`!mytag`) or a collection as a key is no reason to print to stderr.
    const doc = parseDocument(text, { uniqueKeys: false, merge: true, logLevel: 'error' })
    if (doc.errors.length) return undefined
    visit(doc, {
      Scalar(_, n) {
        if (n.type === 'PLAIN' && typeof n.value === 'number' && typeof n.source === 'string' && YAML11_STRING.test(n.source)) n.value = n.source
      },
    })
    return doc.toJS({ maxAliasCount: 100 }) as unknown
  } catch {
    return undefined
  }
}

/** The anchor an opaque node starts with (`&base {…}`, `&lead alice`), when its value holds no other. */
export function anchorOf(n: Node): string | null {
  if (n.t !== 'opaque') return null
  const m = /^&([^\s,[\]{}]+)(?=\s|$)/.exec(n.raw)
  return m && !/[&*]/.test(n.raw.slice(m[0].length)) && !n.raw.includes('<<') ? m[1]! : null
}

/** The start of an opaque node's text, for a message. */
export const short = (raw: string) => (raw.length > 40 ? `${raw.slice(0, 40).trimEnd()}…` : raw).replace(/\n\s*/g, ' ')

const CORE_WORDS = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)$/
/**
 * The value of the commonest scalars without a parser (a file has thousands; the yaml package's parse of
 * each one is what made this slow): plain words and one-line quoted strings without escapes.
 */
export function quickScalar(raw: string): unknown {
  if (!raw.includes('\n')) {
    if (YAML11_STRING.test(raw)) return raw
    if (/^[A-Za-z_][^:#\t]*$/.test(raw) && !/\s$/.test(raw) && !CORE_WORDS.test(raw)) return raw
    if (/^"[^"\\]*"$/.test(raw)) return raw.slice(1, -1)
    if (/^'[^']*'$/.test(raw)) return raw.slice(1, -1)
  }
  return valueOf({ t: 'scalar', raw })
}

/** A scalar inside `[…]`: as `scalarRaw`, quoted where a flow indicator would end it. */
export function flowScalar(want: unknown, like: string): string {
  const raw = scalarRaw(want, like) ?? JSON.stringify(want)
  return raw.startsWith('"') || raw.startsWith("'") || !/[,[\]{}#]|: |:$/.test(raw) ? raw : JSON.stringify(want)
}

/**
 * A scalar token for `want`, in the quoting style of `old` where it can say it: double-quoted stays
 * double-quoted, single-quoted single; otherwise plain when plain reads back as the same value.
 */
export function scalarRaw(want: unknown, old: string): string | null {
  if (typeof want === 'string') {
    if (old.startsWith('"')) return JSON.stringify(want)
    if (old.startsWith("'") && !/[\n\\"\u0000-\u001f]/.test(want)) return `'${want.replace(/'/g, "''")}'`
  }
  const s = stringify(want, { lineWidth: 0 }).replace(/\n$/, '')
  if (s.includes('\n')) return typeof want === 'string' ? JSON.stringify(want) : null
  return s
}

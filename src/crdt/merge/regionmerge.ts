/**
 * Three-way merge of a large context file without building CRDTs for all of it: what changed on one side
 * only is taken line for line, and only the *items* both sides changed are merged through the CRDT
 * (`merge3`), each as a small document of its own. Merging a 1 MB file where a few todos changed then
 * costs what those todos cost.
 *
 * The file is cut into units: root entries (a line at column 0) and, inside a root entry holding a block
 * collection, its items or keys (lines at the collection's indentation). Each side's changes (line diffs
 * against the base) are widened to whole units; units only one side touched take that side's lines, units
 * both touched are wrapped in their root key (`todos:` + the items) and merged by the CRDT, which knows
 * identities, sets and block scalars. Whole units are valid YAML in that context, so the result is too —
 * guarded by checks that are cheap (indentation of merged units, no identity added twice); when one fails,
 * or the file has a shape this does not follow (several documents, no final newline), `null` tells the
 * caller to merge the whole file through the CRDT instead.
 *
 * The CRDT (and the options, which read `ctxsync.yaml`) are loaded only when a unit needs them: a merge
 * where no item changed on both sides never pays for loading Yjs and the YAML parser.
 */
import { diffArrays } from 'diff'
import type { Conflict, FileModel } from '../model.js'
import type { Merge3Options } from './merge3.js'
import { keyed } from './common.js'

export interface RegionResult {
  /** The root key line the region was merged under (null: root entries). */
  wrapper: string | null
  /** The merged sub-document (wrapper included), as its model rendered it. */
  text: string
  model: FileModel
}

export interface RegionMergeResult {
  text: string
  conflicts: Conflict[]
  /** Regions merged through the CRDT that hold conflicts (for `resolve`). */
  regions: RegionResult[]
}

interface Hunk {
  o0: number
  o1: number
  s0: number
  s1: number
}

const indentOf = (l: string) => {
  let i = 0
  while (i < l.length && (l.charCodeAt(i) === 32 || l.charCodeAt(i) === 9)) i++
  return i
}
/** Blank or comment-only (char tests: this runs on every line of megabyte files). */
const blank = (l: string) => {
  const i = indentOf(l)
  return i === l.length || l.charCodeAt(i) === 35
}

/** Where units start (level 1: root entries; level 2: children of a root block collection). */
function units(lines: string[]): { start: Uint8Array; parent: Int32Array; childIndent: Int32Array } | null {
  const start = new Uint8Array(lines.length + 1)
  const parent = new Int32Array(lines.length).fill(-1)
  const childIndent = new Int32Array(lines.length).fill(-1)
  let root = -1
  let collection = false
  let child = -1
  start[lines.length] = 1
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!
    if (l === '---' || l === '...' || l.startsWith('--- ')) return null
    if (blank(l)) {
      parent[i] = root
      continue
    }
    const ind = indentOf(l)
    const item = l.charCodeAt(ind) === 45 && (ind + 1 === l.length || l.charCodeAt(ind + 1) === 32)
    if (ind === 0 && !(item && root >= 0 && collection && child <= 0)) {
      start[i] = 2
      root = i
      collection = /:\s*(#.*)?$/.test(l) && !item
      child = -1
      parent[i] = -1
      continue
    }
    parent[i] = root
    if (root >= 0 && collection) {
      if (child < 0) child = ind
      childIndent[root] = child
      if (ind === child && (item || /^\s*[^\s#-][^:]*:(\s|$)/.test(l))) start[i] = 1 // an item, or a key
    }
  }
  return { start, parent, childIndent }
}

function hunks(base: string[], side: string[]): Hunk[] {
  const out: Hunk[] = []
  let o = 0
  let s = 0
  let cur: Hunk | null = null
  for (const p of diffArrays(base, side)) {
    const n = p.count ?? p.value.length
    if (!p.added && !p.removed) {
      if (cur) out.push(cur)
      cur = null
      o += n
      s += n
      continue
    }
    cur ??= { o0: o, o1: o, s0: s, s1: s }
    if (p.removed) o = cur.o1 = o + n
    else s = cur.s1 = s + n
  }
  if (cur) out.push(cur)
  return out
}

/**
 * Thrown when a unit both sides changed is larger than `maxCrdtChars`: the caller merges under a time
 * budget instead (`mergebudget.ts`), since the CRDT work grows with the text it is given.
 */
export class RegionTooLarge extends Error {}

export async function mergeByRegions(
  base: string, ours: string, theirs: string, options: () => Promise<Merge3Options> | Merge3Options, limits: { maxCrdtChars?: number } = {},
): Promise<RegionMergeResult | null> {
  if (![base, ours, theirs].every((t) => t.endsWith('\n'))) return null
  const [O, A, B] = [base, ours, theirs].map((t) => t.slice(0, -1).split('\n')) as [string[], string[], string[]]
  const u = units(O)
  if (!u) return null
  const n = O.length
  const isStart = (i: number) => u.start[i]! > 0
  const lower = (x: number, lvl1: boolean) => {
    while (x > 0 && !(lvl1 ? u.start[x] === 2 : isStart(x))) x--
    return Math.max(0, x)
  }
  const upper = (x: number, lvl1: boolean) => {
    while (x < n && !(lvl1 ? u.start[x] === 2 : isStart(x))) x++
    return x
  }
  // Lines compared with what holds them: a bare diff aligned a deleted todo's lines with the next todo's.
  const ids = new Map<string, number>()
  const ko = keyed(O, ids)
  const [ha, hb] = [hunks(ko, keyed(A, ids)), hunks(ko, keyed(B, ids))]
  // Each change widened to whole units; an insertion between two units belongs to the one before it.
  const widen = (h: Hunk): [number, number] => {
    if (h.o0 === h.o1 && isStart(h.o0)) return h.o0 === 0 ? [0, Math.max(1, upper(1, false))] : [lower(h.o0 - 1, false), h.o0]
    // Lines inserted where a replaced unit starts may end the unit before it (a line appended to t2's notes,
    // t3 deleted: merge.test.ts seed 1998), and go with it; taken alone they joined whatever preceded them in
    // the result (the other side's new todo after t2).
    const from = h.s1 > h.s0 && h.o0 > 0 && isStart(h.o0) ? h.o0 - 1 : h.o0
    return [lower(from, false), upper(Math.max(h.o1, h.o0 + 1), false)]
  }
  let regions = [...ha, ...hb].map(widen).sort((x, y) => x[0] - y[0] || x[1] - y[1])
  // Close: merge overlaps; a region that spans root entries is widened to whole root entries.
  for (let changed = true; changed; ) {
    changed = false
    const out: Array<[number, number]> = []
    for (const r of regions) {
      const last = out[out.length - 1]
      if (last && r[0] < last[1]) {
        if (r[1] > last[1]) last[1] = r[1]
        changed = true
      } else out.push([...r])
    }
    for (const r of out) {
      const p = u.parent[r[0]]!
      const crosses = u.start[r[0]] === 2 || p < 0 || u.parent[Math.max(r[0], r[1] - 1)] !== p || [...u.start.subarray(r[0] + 1, r[1])].includes(2)
      if (crosses) {
        const w: [number, number] = [lower(r[0], true), upper(Math.max(r[1], r[0] + 1), true)]
        if (w[0] !== r[0] || w[1] !== r[1]) changed = true
        ;[r[0], r[1]] = w
      }
    }
    regions = out
  }
  // A base boundary's position in a side: after every change that ends at or before it (so an insertion
  // at a boundary goes with the region before it), except at the very start.
  const map = (hs: Hunk[], x: number) => (x === 0 ? 0 : x + hs.filter((h) => h.o1 <= x).reduce((d, h) => d + (h.s1 - h.s0) - (h.o1 - h.o0), 0))
  const inRegion = (h: Hunk, r: [number, number]) => (h.o0 === h.o1 ? (h.o0 > r[0] || r[0] === 0) && h.o0 <= r[1] : h.o0 >= r[0] && h.o1 <= r[1])
  // The unit after a region goes into the region's CRDT merge as context, each side's version of it, and is
  // taken off after (it must come out as that unit's own merge: unchanged, or the one side's change). A new
  // item a side put before it then takes the place it takes in the whole file's merge; without it the
  // sub-document ended with the region, a new item had no neighbour after it and went first, before an item
  // the other side kept (merge.test.ts seed 90). Only a sibling unit no region holds, or that is a region of
  // its own that one side alone changed.
  const context = (r: [number, number], next: [number, number] | undefined): { o: string[]; a: string[]; b: string[]; want: string[] } => {
    const none = { o: [], a: [], b: [], want: [] }
    if (r[1] >= n || u.start[r[1]] !== u.start[r[0]] || u.parent[r[1]] !== u.parent[r[0]]) return none
    const end = upper(r[1] + 1, u.start[r[0]] === 2)
    const c = { o: O.slice(r[1], end), a: A.slice(map(ha, r[1]), map(ha, end)), b: B.slice(map(hb, r[1]), map(hb, end)) }
    if (!next || next[0] >= end) return { ...c, want: c.o }
    if (next[0] !== r[1] || next[1] !== end) return none
    const [ca, cb] = [ha.some((h) => inRegion(h, next)), hb.some((h) => inRegion(h, next))]
    return ca && cb ? none : { ...c, want: ca ? c.a : c.b }
  }
  // The regions before region k, each side's lines under their root keys: a document whose merge makes the
  // new ids the whole file's merge makes before region k (its sides' counters).
  const prefix = (k: number): [string, string, string] => {
    const docs: [string[], string[], string[]] = [[], [], []]
    let open = -1
    for (const r of regions.slice(0, k)) {
      const root = u.start[r[0]] === 2 ? -1 : u.parent[r[0]]!
      if (root >= 0 && root !== open) for (const d of docs) d.push(O[root]!)
      open = root
      docs[0].push(...O.slice(r[0], r[1]))
      docs[1].push(...A.slice(map(ha, r[0]), map(ha, r[1])))
      docs[2].push(...B.slice(map(hb, r[0]), map(hb, r[1])))
    }
    return docs.map((d) => d.join('\n') + '\n') as [string, string, string]
  }
  const out: string[][] = []
  // Lines of changed regions (result, ours, theirs): the only places an identity can have been doubled.
  const touched: [string[][], string[][], string[][]] = [[], [], []]
  const conflicts: Conflict[] = []
  const kept: RegionResult[] = []
  let at = 0
  let done = false
  try {
    let clientIds: [number, number] | null = null
    for (const [k, r] of regions.entries()) {
      out.push(O.slice(at, r[0]))
      at = r[1]
      const ca = ha.some((h) => inRegion(h, r))
      const cb = hb.some((h) => inRegion(h, r))
      const la = A.slice(map(ha, r[0]), map(ha, r[1]))
      const lb = B.slice(map(hb, r[0]), map(hb, r[1]))
      touched[1].push(la)
      touched[2].push(lb)
      if (!cb || (ca && la.join('\n') === lb.join('\n'))) {
        out.push(la)
        touched[0].push(la)
        continue
      }
      if (!ca) {
        out.push(lb)
        touched[0].push(lb)
        continue
      }
      const root = u.parent[r[0]]!
      const wrapper = u.start[r[0]] === 2 || root < 0 ? null : O[root]!
      const doc = (ls: string[]) => (wrapper === null ? [] : [wrapper]).concat(ls).join('\n') + '\n'
      if (limits.maxCrdtChars !== undefined && [la, lb].some((ls) => ls.reduce((n, l) => n + l.length + 1, 0) > limits.maxCrdtChars!)) throw new RegionTooLarge()
      // A side that removed the whole region (an item deleted while the other side edited it): wrapped alone,
      // its collection would be empty, a null value that hides the other side's edit inside it, so the edit was
      // lost (an undo of one's own addition a teammate had edited since: black-box tester). Merged whole, the
      // item stays with the edit, as between live peers.
      if ([la, lb].some((ls) => ls.every((l) => /^\s*(#|$)/.test(l)))) return null
      const ctx = context(r, regions[k + 1])
      const [{ merge3, sideClients }, crdt, { counterTie }, o] = await Promise.all([import('./merge3.js'), import('../model.js'), import('./ties.js'), options()])
      let m
      try {
        clientIds ??= sideClients(o.name, ours, theirs)
        const ids = clientIds
        const sub = (counters?: [number, number]) => merge3(doc(O.slice(r[0], r[1]).concat(ctx.o)), doc(la.concat(ctx.a)), doc(lb.concat(ctx.b)), { ...o, clientIds: ids, ...(counters ? { counters } : {}) })
        m = sub()
        // Both sides inserted at one place and the tie went by a side's count of new ids, which started at the
        // region here and at the file's start in the whole merge (ties.ts; merge.test.ts seeds 1859, 2860):
        // merged again, each side counting on from what its changes before the region made.
        if (k > 0 && counterTie(m.model, ids)) {
          m.model.destroy()
          const before = prefix(k)
          if (limits.maxCrdtChars !== undefined && before.some((t) => t.length > limits.maxCrdtChars!)) throw new RegionTooLarge()
          const p = merge3(before[0], before[1], before[2], { ...o, clientIds: ids })
          p.model.destroy()
          m = sub(p.counters)
        }
      } catch (e) {
        if (e instanceof crdt.YamlSyntaxError || e instanceof crdt.RefusedFileError) return null // cut somewhere odd: merge it whole
        throw e
      }
      if (m.text === null || (wrapper !== null && !m.text.startsWith(wrapper + '\n'))) return null
      const merged = (wrapper === null ? m.text : m.text.slice(wrapper.length + 1)).replace(/\n$/, '')
      const withCtx = merged === '' ? [] : merged.split('\n')
      const lines = withCtx.slice(0, withCtx.length - ctx.want.length)
      if (withCtx.slice(lines.length).join('\n') !== ctx.want.join('\n')) return null
      if (wrapper !== null && !siblingsOk(lines, u.childIndent[root]!)) return null
      out.push(lines)
      touched[0].push(lines)
      conflicts.push(...m.conflicts)
      if (m.conflicts.length) kept.push({ wrapper, text: m.text, model: m.model })
      else m.model.destroy()
    }
    out.push(O.slice(at))
    if (!identitiesOk(touched[0].flat(), touched[1].flat(), touched[2].flat())) return null
    done = true
  } finally {
    if (!done) for (const k of kept) k.model.destroy()
  }
  return { text: out.flat().join('\n') + '\n', conflicts, regions: kept }
}

/** The merged units still sit at their collection's indentation (nothing above it, the first at it). */
function siblingsOk(lines: string[], child: number): boolean {
  const content = lines.filter((l) => !blank(l))
  if (content.length === 0) return true
  return indentOf(content[0]!) === child && content.every((l) => indentOf(l) >= child)
}

/** Both sides adding the same identity in different places would leave it twice: the CRDT merges those. */
function identitiesOk(out: string[], a: string[], b: string[]): boolean {
  const count = (ls: string[]) => {
    const m = new Map<string, number>()
    for (const l of ls) {
      if (!l.includes('- id:') && !l.includes('- name:')) continue
      const x = /^(\s*)- (id|name): *("?)([^"#]+?)\3\s*(#.*)?$/.exec(l)
      if (x) m.set(`${x[1]!.length}:${x[4]}`, (m.get(`${x[1]!.length}:${x[4]}`) ?? 0) + 1)
    }
    return m
  }
  const [mo, ma, mb] = [count(out), count(a), count(b)]
  for (const [k, v] of mo) if (v > Math.max(ma.get(k) ?? 0, mb.get(k) ?? 0)) return false
  return true
}

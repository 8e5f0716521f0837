/**
 * What a stale save's notice names (`FileModel.ingest`, black-box tester stop 30, findings 1 and 8). A stale
 * save keeps what changed since the text it was made from (`recent.ts`); the notice names the kept values a
 * person may have meant to set, and counts the rest.
 *
 *  - Values this machine's own later saves wrote (not a peer's): named as the person's own, never "a peer's"
 *    (finding 1: ann's own S2 kept over her save of S1 was said as "1 change from peers"), and an overwrite
 *    of one is no conflict — both values are one machine's (ann vs ann, `status --check` exit 4).
 *  - Peers' values the save showed as they were before: named only when the save's base is the text just
 *    before our last write-back (one write between: the person may have seen it and put a value back, the
 *    put-back of 282c00a). A buffer older than two or more write-backs shows none of them: a put-back of every
 *    such value, made at different times, is not what happened, and naming each (finding 8: fourteen "stays …
 *    set it again" lines after a 40-edit gap, for fields the person never touched) hides what matters. They
 *    are counted (`unnamed`).
 */
import * as Y from 'yjs'
import { childrenOf, slotsOf, type DocIR, type Node } from './ir.js'
import { ROOT, kindOf, type NodeId } from './schema.js'
import { ITEM } from './rules.js'
import type { Tree } from './tree.js'
import type { Equals, Held } from './recent.js'
import { conflictMaps } from './conflicts.js'
import { dataKey, type ConflictRecord } from './heads.js'
import { applyStale, changedSince, type KeptValue, type StaleSave } from './stalesave.js'
import type { Differ } from './diff.js'
import { descOf } from './write.js'

export interface ToldValue extends KeptValue {
  /** Kept from this machine's own later save, not a peer's. */
  own?: boolean
  /** The save had no such value (it removed it, or its item): kept because it changed since. */
  removed?: boolean
  /** The save has it, this machine's own later save removed it: it stays removed (`kept`, `saved` empty). */
  gone?: boolean
  /** Added by this machine's own later save, removed by this one (read as an edit of that save). */
  took?: boolean
  /** The save's value replaced this machine's own later one (`kept`): said, not recorded. */
  replaced?: boolean
}

export interface StaleTold extends StaleSave {
  values?: ToldValue[]
  /** Peers' values kept over the save's older ones, not named (the save's base was two or more write-backs old). */
  unnamed?: number
  /** The save was read as an edit of this machine's own later save, undoing part of it (`recent.ts` ownAfter). */
  ownBase?: boolean
  /** Made from a text older than this machine's own later save, which is kept where the save did not touch it (`recentown.ts`). */
  beforeOwn?: boolean
}

const MAX_NAMED = 8
const itemKey = (i: Y.Item) => `${i.id.client}:${i.id.clock}`
const line = (desc: string) => (kindOf(desc) === 'scalar' && !desc.includes('\n') ? desc.slice(1).trim() : null)
const slotDesc = (s: ReturnType<typeof slotsOf>[number]) => ('value' in s ? descOf(s.value) : '=' + s.text)

export function pathOf(tree: Tree, id: NodeId): string {
  const rp = tree.rulePath(id)
  return tree.path(id).map((seg, i) => (rp[i] === ITEM || typeof seg === 'number' ? `[${seg}]` : `${i ? '.' : ''}${seg}`)).join('')
}

/** `applyStale`, then what to say of it (`tellStale`); `from`: the base and the ring's texts after it (`RecentTexts.from`). */
export function applyTold(tree: Tree, held: Held, differ: (seen?: Map<number, number>) => Differ, baseIr: DocIR, ir: DocIR, timed: boolean, from: readonly Held[] | null, own?: Held) {
  const since = changedSince(tree, baseIr)
  const o = tellStale(tree, since, from, ir, applyStale(tree, held, differ, baseIr, ir, timed).overwritten)
  // Read past one's own later save (`own`: the earlier text it was near): what that save added and this one
  // lacks went with it — said, for a save that was an older copy after all (a late agent's read).
  const took = own ? addedByOwn(own.ir, baseIr, ir) : []
  // A peer's write under it keeps it (the deletion meets an edit it had not seen: `Tree.isRevived`).
  const peers = (id: NodeId): boolean => { const it = tree.item(id, 'v'); return Boolean(it && it.id.client !== tree.doc.clientID) }
  const under = took.length ? pathsOf(baseIr) : null
  const kept = (id: NodeId) => [...under!].some(([d, p]) => peers(d) && (d === id || within(under!, p.parent, id)))
  o.values.unshift(...took.filter(([id]) => !kept(id)).map(([, path]) => ({ path, kept: '', saved: '', own: true, took: true })))
  return o
}

/** The notice's fields of a stale save (`StaleTold`), from `applyTold` and the base chosen (`own`: `recent.ts` ownAfter). */
export const told = (o: ReturnType<typeof tellStale>, chosen: { stale: boolean; own?: unknown; beforeOwn?: boolean } | null) => ({
  overwritten: o.overwritten,
  ...(o.values.length ? { values: o.values } : {}),
  ...(o.unnamed ? { unnamed: o.unnamed } : {}),
  ...(chosen?.own ? { ownBase: true } : {}),
  ...(chosen?.beforeOwn ? { beforeOwn: true } : {}),
})

/**
 * After the save is applied (inside its transaction): the values to name and the count of the rest. `from`:
 * the base and the ring's texts after it (null for a base older than the ring); `ir` the save's, with node ids.
 */
export function tellStale(tree: Tree, since: ReturnType<typeof changedSince>, from: readonly Held[] | null, ir: DocIR, overwritten: number): { overwritten: number; values: ToldValue[]; unnamed: number } {
  const own = tree.doc.clientID
  // The values this machine's own saves after the base wrote: each differs there from the text before it.
  const shown = new Map<NodeId, Set<string>>()
  const descs = (h: Held) => new Map(slotsOf(h.ir).filter((s) => s.id).map((s) => [s.id!, slotDesc(s)]))
  let prev = from?.[0] ? descs(from[0]) : new Map<NodeId, string>()
  for (const h of from?.slice(1) ?? []) {
    const now = descs(h)
    if (!h.ours) for (const [id, d] of now) if (prev.get(id) !== d) shown.set(id, (shown.get(id) ?? new Set()).add(d))
    prev = now
  }
  const inSave = descs({ ir } as Held)
  const writes = from ? from.filter((h) => h.ours).length - (from[0]!.ours ? 1 : 0) : Infinity
  const { records } = conflictMaps(tree.doc)
  const values: ToldValue[] = []
  let unnamed = 0
  for (const [id, b] of since) {
    if (id === ROOT) continue
    const ownValue = Boolean(shown.get(id)?.has(b.value[0]))
    const now = tree.item(id, 'v')
    if (!now) continue
    if (itemKey(now) !== b.key) {
      // Overwritten by the save: a record of two values one machine wrote is no conflict.
      if (!ownValue) continue
      for (const [k, rec] of [...records.entries()] as Array<[string, ConflictRecord]>) {
        if (k.startsWith(id + '|') && rec[0][2] === own && rec[1][2] === own) {
          records.delete(k)
          overwritten--
          const [kept, saved] = [line(b.value[0]), line(tree.value(id)?.[0] ?? '')]
          if (kept !== null && saved !== null) values.push({ path: pathOf(tree, id), kept, saved, own: true, replaced: true })
        }
      }
      continue
    }
    const [kept, saved] = [line(b.value[0]), line(b.was)]
    // Quoting alone is no other value (a peer's dump that dropped the quotes: yaml helper, stop 31): equal data
    // as records judge it (`heads.ts` dataKey).
    if (kept === null || saved === null || kept === saved || dataKey(b.value[0]) === dataKey(b.was)) continue
    const removed = !inSave.has(id)
    if (ownValue || writes <= 1) values.push({ path: pathOf(tree, id), kept, saved, ...(ownValue ? { own: true } : {}), ...(removed ? { removed } : {}) })
    else unnamed++
  }
  // What one's own later save removed and the save still has stays removed (the save was read from an earlier
  // text): said as one's own, with how to have it back.
  const gone = from ? removedByOwn(from, ir) : []
  const shownNow = gone.length ? new Set(slotsOf(tree.toIR()).map((s) => s.id)) : null
  for (const [id, path] of gone) if (!shownNow!.has(id)) values.push({ path, kept: '', saved: '', own: true, gone: true })
  // The person's own first, then the peers'; the rest counted.
  values.sort((x, y) => Number(Boolean(y.own)) - Number(Boolean(x.own)))
  unnamed += Math.max(0, values.length - MAX_NAMED)
  return { overwritten, values: values.slice(0, MAX_NAMED), unnamed }
}

/**
 * A save that is exactly an older text (a stale copy written back unchanged, an editor's buffer saved without
 * edits, or a deliberate revert: the bytes cannot tell) is taken as made from the newest text, so it takes back
 * what peers changed since on every peer (`recent.ts`: a revert must go through at once). Said plainly
 * (black-box tester stop 30, finding 7: the log said only "your edit taken in"): which version it equals, the
 * peers' values it took back, and how to bring them back.
 */
export interface Undone {
  /** Our writes (peers' changes written into the file) since the version the save equals; `older`: more. */
  writes: number
  older?: boolean
  /** The peers' values it took back (up to MAX_NAMED), `now` null where the value went with the save. */
  values: Array<{ path: string; was: string; now: string | null }>
  /** How many in all. */
  count: number
  /** Not an older text: an edit of the newest that took back these lines of the person's own last save (`recent.ts` ownBack). */
  ownBack?: string[]
}

/** A non-stale save's diff (`FileModel.take`); with `equals`, what it took back of the peers' (`Undone`). */
export function applyEdit(tree: Tree, differ: Differ, baseIr: DocIR | null, ir: DocIR, equals?: Equals): Undone | null {
  const own = tree.doc.clientID
  const peers = new Map<NodeId, { key: string; was: string; path: string }>()
  if (equals && baseIr) for (const s of slotsOf(baseIr)) {
    const item = s.id ? tree.item(s.id, 'v') : undefined
    const was = item && line(tree.value(s.id!)?.[0] ?? '')
    if (item && item.id.client !== own && was !== null && was !== undefined) peers.set(s.id!, { key: itemKey(item), was, path: pathOf(tree, s.id!) })
  }
  differ.applyDoc(baseIr, ir)
  if (!equals) return null
  const values: Undone['values'] = []
  const removed = new Set<NodeId>()
  for (const [id, p] of peers) {
    // A peer's item the save lacks (added since the copy was made) went whole: said once, as the item
    // (black-box tester stop 31, finding 4: only values were counted, and a deleted item left "your edit taken in").
    const gone = goneAt(tree, id)
    if (gone !== null) {
      if (!removed.has(gone)) values.push({ path: pathOf(tree, gone), was: gone === id ? p.was : '', now: null })
      removed.add(gone)
      continue
    }
    const now = tree.item(id, 'v')
    if (now && itemKey(now) === p.key) continue
    values.push({ path: p.path, was: p.was, now: line(tree.value(id)?.[0] ?? '') })
  }
  return { ...equals, values: values.slice(0, MAX_NAMED), count: values.length }
}

/** The outermost node at or above `id` that no longer renders (deleted), or null when it renders. */
function goneAt(tree: Tree, id: NodeId): NodeId | null {
  let out: NodeId | null = null
  for (let c: NodeId | undefined = id; c !== undefined && c !== ROOT; c = tree.placement(c)?.[0]) if (!tree.has(c) || !tree.alive(c)) out = c
  return out
}

/** Paths of the slots of `ir` by id (`todos[T-1].status`), items by their `id` or `name`, else their place. */
function pathsOf(ir: DocIR): Map<NodeId, { path: string; parent: NodeId | null }> {
  const out = new Map<NodeId, { path: string; parent: NodeId | null }>()
  const walk = (n: Node | null, path: string, parent: NodeId | null) => {
    if (!n || !('entries' in n || 'items' in n)) return
    const kids = childrenOf(n) ?? []
    kids.forEach((c, i) => {
      let p: string
      if ('key' in c) p = `${path}${path ? '.' : ''}${c.key}`
      else {
        const ident = c.value && childrenOf(c.value)?.find((e) => 'key' in e && (e.key === 'id' || e.key === 'name') && e.value.t === 'scalar')
        p = `${path}[${ident ? (ident.value as { raw: string }).raw : i}]`
      }
      if (c.id) out.set(c.id, { path: p, parent })
      walk(c.value, p, c.id ?? parent)
    })
  }
  walk(ir.root, '', null)
  return out
}

/** Slots of the base (`from[0]`) that one of this machine's own saves after it removed, that the save `ir` still has. */
function removedByOwn(from: readonly Held[], ir: DocIR): Array<[NodeId, string]> {
  const base = pathsOf(from[0]!.ir)
  const inSave = new Set(slotsOf(ir).map((s) => s.id).filter(Boolean))
  const gone = new Set<NodeId>()
  let prev = new Set(base.keys())
  for (const h of from.slice(1)) {
    const now = new Set(slotsOf(h.ir).map((s) => s.id!).filter(Boolean))
    if (!h.ours) for (const id of prev) if (!now.has(id) && base.has(id) && inSave.has(id)) gone.add(id)
    prev = now
  }
  // The outermost of what went: an item, not each of its fields.
  return [...gone].filter((id) => !gone.has(base.get(id)!.parent!)).map((id) => [id, base.get(id)!.path])
}

/** Is `id` among `from` and its ancestors in `paths`? */
function within(paths: ReturnType<typeof pathsOf>, from: NodeId | null, id: NodeId): boolean {
  for (let c = from; c; c = paths.get(c)?.parent ?? null) if (c === id) return true
  return false
}

/** Slots one's own later save (`base`) added to the earlier text (`earlier`) that the save `ir` lacks: the outermost. */
function addedByOwn(earlier: DocIR, base: DocIR, ir: DocIR): Array<[NodeId, string]> {
  const paths = pathsOf(base)
  const had = new Set(slotsOf(earlier).map((s) => s.id))
  const inSave = new Set(slotsOf(ir).map((s) => s.id))
  const gone = new Set([...paths.keys()].filter((id) => !had.has(id) && !inSave.has(id)))
  return [...gone].filter((id) => !gone.has(paths.get(id)!.parent!)).map((id) => [id, paths.get(id)!.path])
}

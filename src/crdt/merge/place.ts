/**
 * The merge driver's conflicts, found again in another document of the same file: the live one (so that
 * the record reaches every peer, `adoptConflict`) or the file's current text (so that `resolve` can apply
 * a choice to a file that changed since the merge, `placeConflict`).
 *
 * The driver merges in scratch documents whose node ids are not the live document's (`merge3.ts`), so a
 * conflict is found by its key path — identity values for list items, as `Tree.path` gives it — and it is
 * only there while that place still shows the value the merge kept: a value changed since (by hand, by a
 * peer, by a later pull) was a decision made after the merge, and the record is moot.
 *
 * Adopted, a conflict becomes a record in the document's synced map "c" in `stalesave.ts`'s format (item
 * ids behind an `s`, held by this peer, so a later local edit supersedes it on any peer) holding each value
 * with its author and time.
 */
import * as Y from 'yjs'
import type { FileModel } from '../model.js'
import type { Conflict } from '../present.js'
import { conflictMaps, listRaw, type RecordValue } from '../conflicts.js'
import { itemKey, recordsByNode } from '../heads.js'
import { ROOT, type NodeId } from '../schema.js'
import type { Tree } from '../tree.js'
import { derivedClientId } from './clientid.js'
import { asAuthor } from '../modeltypes.js'

/** One value of a merge conflict as kept: what it is, who wrote it and when (seconds; 0: unknown). */
export interface EntryValue {
  desc: string
  at: number
  author: { id: string; name: string; kind: 'human' | 'agent' }
}

/** A value conflict of a merged document, placed by its path. */
export interface MergeEntry {
  id: string
  path: Array<string | number>
  display: string
  values: EntryValue[]
  /** Index into `values` of what the merge kept. */
  winner: number
  /** As `status` and `resolve --list` show it. */
  conflict: Conflict
}

/** The value conflicts of a merged (scratch) document; delete-versus-edit ones are not placed by path. */
export function mergeEntries(scratch: FileModel): MergeEntry[] {
  const shown = scratch.conflicts()
  // describeConflicts maps listRaw in order: the two line up.
  return listRaw(scratch.tree).flatMap((raw, i) => {
    const c = shown[i]
    if (!c || raw.kind !== 'value') return []
    return [{ id: c.id, path: c.path, display: c.display, winner: raw.winner, conflict: c, values: raw.values.map((v, k) => ({ desc: v[0], at: v[1], author: c.values[k]!.author })) }]
  })
}

/** The visible node at `path` (as `Tree.path` names it), or null. */
export function nodeAtPath(tree: Tree, path: ReadonlyArray<string | number>): NodeId | null {
  let cur: NodeId = ROOT
  for (const seg of path) {
    const next: NodeId | undefined = tree.visibleChildren(cur).find((c, i) => tree.segment(c, i) === seg)
    if (next === undefined) return null
    cur = next
  }
  return cur
}

export type Placement =
  | { kind: 'here'; node: NodeId }
  /** The place holds another value now: `taken` when it is one of the conflict's own. */
  | { kind: 'changed'; taken: boolean }
  | { kind: 'gone' }

/** Where `e` is in `model`, if that place still shows the value the merge kept. */
export function placeConflict(model: FileModel, e: MergeEntry): Placement {
  if (!model.exists()) return { kind: 'gone' }
  const node = nodeAtPath(model.tree, e.path)
  if (node === null) return { kind: 'gone' }
  const desc = model.tree.desc(node)
  if (desc === e.values[e.winner]!.desc) return { kind: 'here', node }
  return { kind: 'changed', taken: e.values.some((v) => v.desc === desc) }
}

/**
 * Who wrote the value `model` shows at `path` and when, if it is `desc` (null otherwise): the register's
 * writer, or — for a copy the later-wins rule made (`heads.ts`) — the original write's.
 */
export function writerAt(model: FileModel, path: ReadonlyArray<string | number>, desc: string): { author: EntryValue['author']; at: number } | null {
  const node = model.exists() ? nodeAtPath(model.tree, path) : null
  const item = node === null ? undefined : model.tree.item(node, 'v')
  const v = node === null ? undefined : model.tree.value(node)
  if (!item || !v || v[0] !== desc) return null
  const client = recordsByNode(model.doc, new Set([node!])).get(node!)?.alias.get(itemKey(item))?.[1][2] ?? item.id.client
  const a = conflictMaps(model.doc).authors.get(String(client))
  return a ? { author: asAuthor(a), at: v[1] } : null
}

/** Why a placed conflict is dropped, in words for the user. */
export function whyDropped(p: Exclude<Placement, { kind: 'here' }>): string {
  if (p.kind === 'gone') return 'the entry is no longer in the file'
  return p.taken ? 'one of its values was chosen since' : 'the value was changed since'
}

/** A client id standing for an author in records (never a Yjs writer: only its entry in "a" is read). */
const authorClient = (a: EntryValue['author']): number => derivedClientId('ctxsync-author', a.id, a.name, a.kind)

/**
 * Records `e` in `live` at `node` (from `placeConflict`), in one local transaction that is no edit (it
 * supersedes nothing). The file keeps showing the merge's value: the register is written again just below
 * that value's time, so that the record's copy of it (its author, its time) is the one listed; and it must
 * stay the latest of the values (`heads.ts` shows the latest), as it is in `stalesave.ts`.
 */
export function adoptConflict(live: FileModel, node: NodeId, e: MergeEntry): void {
  const doc = live.doc
  live.local(() => {
    const { records, authors } = conflictMaps(doc)
    const client = (v: EntryValue): number => {
      const c = authorClient(v.author)
      const had = authors.get(String(c))
      if (!had || had[0] !== v.author.id || had[1] !== v.author.name) authors.set(String(c), [v.author.id, v.author.name, v.author.kind])
      return c
    }
    const win = e.values[e.winner]!
    const others = e.values.filter((_, k) => k !== e.winner).map((v): RecordValue => [v.desc, v.at, client(v)])
    const at = Math.max(win.at, ...others.map((v) => v[1] + 0.001))
    const w: RecordValue = [win.desc, at, client(win)]
    const me = doc.clientID
    // Each map write below is one item of this client at the next clock: the ids name them (held here, so
    // a later local edit of the value on any peer supersedes the record).
    const id = () => `s${me}:${Y.getState(doc.store, me)}`
    const wid = id()
    live.tree.map.set(node + 'v', [win.desc, at - 0.001])
    for (const o of others) {
      const lid = id()
      records.set(`${node}|${lid < wid ? lid : wid}|${lid < wid ? wid : lid}`, lid < wid ? [o, w] : [w, o])
    }
  }, false)
}

/** Writes `desc` at `node` (a choice made now: the latest write), in a local transaction. */
export function setValue(model: FileModel, node: NodeId, desc: string, now: number): void {
  model.local(() => model.tree.map.set(node + 'v', [desc, now]))
}

export type { Conflict }

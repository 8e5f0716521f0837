/**
 * Who wrote what a transaction changed in a file's content: the writers of the registers it set (`n`, the
 * node map), never the peers whose Yjs client merely appears in it. Counting every client of an update
 * credited peers that only carried a change (issue 16, black-box tester): a peer that receives two values
 * written at once records the race (a conflict record, and the latest value written again as a copy: an
 * alias record names the original write, `crdt/heads.ts`), and that local write named it an author of the
 * version — on itself as its own 'local' change (which `undo` with no id would then take back), and on every
 * peer it passed the change on to. Such bookkeeping (conflict records, resolutions, authors, git marks) is
 * no edit; a copy is its original writer's.
 */
import type { Doc, Item, Transaction, Map as YMap } from 'yjs'
import { AUTHORS, CONFLICTS, NODES } from '../../crdt/schema.js'
import type { ConflictRecord } from '../../crdt/heads.js'

export interface Writers {
  /** Yjs clients whose own writes of content the transaction holds. */
  own: Set<number>
  /** Clients whose writes this transaction copied (the peer that copied is not their author). */
  copied: Set<number>
  /** It removed registers (whose remover Yjs does not name). */
  removed: boolean
}

/** Defines the maps read here, so a remote update's `tr.changed` names them (not plain types). */
export function watchWriters(doc: Doc): void {
  doc.getMap(NODES)
  doc.getMap(CONFLICTS)
  doc.getMap(AUTHORS)
}

const changedKeys = <T>(tr: Transaction, map: YMap<T>): Set<string | null> | undefined => tr.changed.get(map as never)

/** The writers of the content `tr` changed (registers set, or removed: see `removedBy`). */
export function writersIn(doc: Doc, tr: Transaction): Writers {
  const out: Writers = { own: new Set(), copied: new Set(), removed: false }
  const nodes = doc.getMap<unknown>(NODES)
  const keys = changedKeys(tr, nodes)
  if (!keys?.size) return out
  const records = doc.getMap<ConflictRecord>(CONFLICTS)
  // Copies written in this transaction: `<node>|<copy item>|=<original item>` → the original's client.
  const copies = new Map<string, number>()
  for (const k of changedKeys(tr, records) ?? []) {
    if (k === null || !k.includes('|=')) continue
    const rec = records.get(k)
    if (rec) copies.set(k.slice(k.indexOf('|') + 1, k.indexOf('|=')), rec[0][2])
  }
  for (const k of keys) {
    if (k === null) continue
    const it = nodes._map.get(k) as Item | undefined
    if (!it || it.deleted) {
      out.removed = true
      continue
    }
    // Still the value it held before: the new write lost (its writer's value is not what the file shows).
    if (it.id.clock < (tr.beforeState.get(it.id.client) ?? 0)) continue
    const orig = copies.get(`${it.id.client}:${it.id.clock}`)
    if (orig !== undefined) out.copied.add(orig)
    else out.own.add(it.id.client)
  }
  if (out.removed && out.own.size === 0) for (const c of removedBy(doc, tr)) out.own.add(c)
  return out
}

/**
 * Who removed a register (a default written back: a comment line deleted, say): Yjs does not say who deletes.
 * An edit that only deletes writes its author entry to move the state vector (`FileModel.local`), so the
 * clients with new writes in this transaction are its makers.
 */
function removedBy(doc: Doc, tr: Transaction): number[] {
  const authors = doc.getMap<unknown>(AUTHORS)
  const out: number[] = []
  for (const k of changedKeys(tr, authors) ?? []) {
    const it = k === null ? undefined : (authors._map.get(k) as Item | undefined)
    if (it && !it.deleted && it.id.clock >= (tr.beforeState.get(it.id.client) ?? 0)) out.push(it.id.client)
  }
  return out
}

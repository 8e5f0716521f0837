/**
 * What a stale save overwrote (issue 13 item 3). A save made from an older text (see `recent.ts`) is diffed
 * against that text, so a value peers changed since is written only where the save changed it too: old
 * value V0 in the save's base, V1 from a peer since, X in the save. X wins — it is the later edit, made by a
 * person looking at the value — but V1 must not vanish without a trace. Yjs sees no race here (this peer
 * held V1 when it wrote X, so X's item has V1's as its origin), hence `conflicts.ts` never notices it, and
 * the record is written here, in that module's format (synced map "c", key `node|itemA|itemB`, values
 * [desc, at, client]), so `status` lists it and `resolve` can bring V1 back on every peer.
 *
 * A save that deletes an item a peer edited since needs no record: its tombstone remembers only what the
 * save's base had seen (`WriterOptions.seen`), so the peer's edit is beyond it and the item stays, with
 * the delete-versus-edit conflict of `Tree.isRevived`.
 */
import * as Y from 'yjs'
import { diffLines } from 'diff'
import { conflictMaps, type ConflictRecord, type RecordValue } from './conflicts.js'
import { dataKey, liveValues, recordsByNode, type NodeRecords } from './heads.js'
import { slotsOf, type DocIR } from './ir.js'
import { ROOT, kindOf, type NodeId, type Value } from './schema.js'
import type { Tree } from './tree.js'
import type { Differ } from './diff.js'
import { renderDoc } from './render.js'
import type { Held } from './recent.js'
import { descOf } from './write.js'

/** A save made from an older text than the file's last (`FileModel.ingest`). */
export interface StaleSave {
  /** Places where the peers' changes made since were kept (the file now differs from the save there). */
  kept: number
  /** Values the save overwrote that peers had changed since: recorded as conflicts. */
  overwritten: number
  /**
   * Values peers changed since the save's base that the save showed as they were there, kept as the peers'
   * (up to five). A stale buffer's, usually; but a fresh save that put an earlier value back reads the
   * same (black-box tester finding 1: bob's `done` kept, ann's put-back `todo` gone without a word). Said, so
   * the person can set it again: the file now shows the peer's value, and an edit of it is taken as made.
   */
  values?: KeptValue[]
}

export interface KeptValue {
  /** `todos[T-1].status` */
  path: string
  /** The peer's value kept, and the one the save showed (as written, one line). */
  kept: string
  saved: string
}

interface Before {
  key: string
  value: RecordValue
  /** The value in the save's base ('' for one peers added since). */
  was: string
  /**
   * What the save overwrites: the value's live competitors (`heads.ts`) its base had not seen, each by its
   * original write and writer. The register holds one of them, maybe a later-wins copy (credited to its
   * copier, and the save's item, written over it, has the copy's origins — Yjs's pick among the others —
   * among its own): recorded as the register held them, one value was credited to the copier and another
   * superseded, listed nowhere (bench/simultaneous.mjs --peers 3, simultaneous3.test.ts).
   */
  live: Array<[id: string, value: RecordValue]>
}

const itemKey = (i: Y.Item) => `${i.id.client}:${i.id.clock}`
const structural = (desc: string) => ['map', 'seq', 'fseq', 'fmap'].includes(kindOf(desc))

/**
 * Applies a save diffed against the stale base `held` (its parse `baseIr`), inside the caller's transaction;
 * returns how many values it overwrote. Tombstones remember only what `held` showed, plus this peer's own
 * writes up to now (a node this very diff writes must not count as an edit beyond its own deletion).
 */
export function applyStale(tree: Tree, held: Held, differ: (seen?: Map<number, number>) => Differ, baseIr: DocIR, ir: DocIR, timed = false): { overwritten: number } {
  // The save is its base's very text: the person changed nothing, and nothing is written. Diffed, a base that
  // is a repaired rendering (block mappings the file shows in flow) differs from the save's parse in every
  // entry, and the diff wrote them all anew, superseding peers' race records (converge-emptied seed 15: at the
  // heal, a peer whose file had not shown peers' changes yet took in its unchanged file and rewrote a title;
  // the race of two others' titles was left with no record).
  if (renderDoc(ir) === held.text) return { overwritten: 0 }
  const own = tree.doc.clientID
  const seen = held.sv && new Map([...held.sv, [own, Y.getState(tree.doc.store, own)]])
  const since = changedSince(tree, baseIr, true, seen)
  differ(seen).applyDoc(baseIr, ir)
  return { overwritten: recordOverwrites(tree, since, timed) }
}

/**
 * The values of `base` that peers changed since (the model holds another value now). Call before the save
 * is applied; pass the result to `recordOverwrites` after. `added`: also every value the model shows that
 * `base` did not (what peers added since): a save's new item landing on one of them (the same new `id` a
 * peer added, which the base never showed) writes its values over the peer's, unseen, and each must be
 * recorded (black-box tester: of two todos added under one new id, one side's values vanished unrecorded).
 */
export function changedSince(tree: Tree, base: DocIR, added = false, seen?: ReadonlyMap<number, number>): Map<NodeId, Before> {
  const out = new Map<NodeId, Before>()
  const emptied = new Map<NodeId, string>()
  const check = (id: NodeId, desc: string) => {
    const cur = tree.value(id)
    if (!cur && seen) emptied.set(id, desc)
    // Counters merge increments: nothing is overwritten.
    if (!cur || cur[0] === desc || tree.contributions(id)?.size) return
    const item = tree.item(id, 'v')
    if (!item) return
    const value: RecordValue = [cur[0], cur[1], item.id.client]
    out.set(id, { key: itemKey(item), value, was: desc, live: [[itemKey(item), value]] })
  }
  check(ROOT, descOf(base.root))
  const inBase = new Set<NodeId>()
  for (const s of slotsOf(base)) if (s.id) {
    inBase.add(s.id)
    check(s.id, 'value' in s ? descOf(s.value) : '=' + s.text)
  }
  // A value `recordOverwrites` finds unchanged (same item, or same value) is no overwrite: nothing recorded.
  if (added) for (const s of slotsOf(tree.toIR())) if (s.id && !inBase.has(s.id)) check(s.id, '')
  const groups = recordsByNode(tree.doc, new Set([...out.keys(), ...emptied.keys()]))
  for (const [id, was] of emptied) {
    const live = unseenRecorded(groups.get(id), seen!)
    if (live.length) out.set(id, { key: '', value: live[0]![1], was, live })
  }
  for (const [id, b] of groups.size ? out : []) {
    const g = groups.get(id)
    if (!g) continue
    const alias = g.alias.get(b.key)
    if (alias) b.live = [[alias[0], [b.value[0], b.value[1], alias[1][2]]]]
    const live = liveValues(tree, id, g)
    live?.values.forEach((v, i) => dataKey(v[0]) !== dataKey(b.value[0]) && !held(live.ids[i]!, seen) && b.live.push([live.ids[i]!, v]))
  }
  return out
}

/**
 * The recorded competitors of a register that holds no value, which the save's base had not seen. In an
 * incomplete state (an update waiting for one it depends on) Yjs has applied the waiting update's deletions:
 * a later-wins copy's replacement of two raced values deleted both before the copy itself arrived. A save of
 * that field then wrote over an empty register, its item's origin the raced value its file never showed,
 * and that value was superseded with no record (converge free-for-all seed 1001).
 */
function unseenRecorded(g: NodeRecords | undefined, seen: ReadonlyMap<number, number>): Array<[string, RecordValue]> {
  const out = new Map<string, RecordValue>()
  for (const o of g?.open ?? []) for (const k of [0, 1] as const) {
    const id = g!.alias.get(o.ids[k])?.[0] ?? o.ids[k]
    if (!g!.dead.has(o.ids[k]) && !g!.dead.has(id) && !held(id, seen)) out.set(id, o.rec[k])
  }
  return [...out]
}

/** Had the save's base seen write `id` (`s`-prefixed: a stale save's record, naming the same item)? */
function held(id: string, seen?: ReadonlyMap<number, number>): boolean {
  const c = id.indexOf(':')
  if (!seen || c < 0) return false
  return (seen.get(Number(id.slice(id.startsWith('s') ? 1 : 0, c))) ?? 0) > Number(id.slice(c + 1))
}

/**
 * Records a conflict for each of `before` the save overwrote with a third value. Returns how many. `timed`:
 * the save's writes carry the time it was made (a joining clone's edit, made before the live value it
 * overwrote, maybe), and the later of the two shows (the caller has `heads.ts` copy it back).
 */
export function recordOverwrites(tree: Tree, before: Map<NodeId, Before>, timed = false): number {
  const { records } = conflictMaps(tree.doc)
  let n = 0
  for (const [id, b] of before) {
    let now = tree.item(id, 'v')
    let nv = tree.value(id) as Value | undefined
    if (!now || !nv || itemKey(now) === b.key) continue
    // Two collection descriptors differ only in formatting (see `detectRaces`).
    const over = b.live.filter(([, v]) => dataKey(v[0]) !== dataKey(nv![0]) && !(structural(nv![0]) && structural(v[0])))
    if (over.length === 0) continue
    // The save is later than what it overwrote, whatever the clocks say (the same millisecond, or a peer's
    // clock ahead): heads.ts shows the later of a record's values, and the saved one must be it.
    const top = Math.max(...over.map(([, v]) => v[1]))
    if (!timed && nv[1] <= top) {
      tree.map.set(id + 'v', [nv[0], top + 0.001])
      now = tree.item(id, 'v')!
      nv = tree.value(id) as Value
    }
    const mine: RecordValue = [nv[0], nv[1], now.id.client]
    // Keyed by `s`-prefixed item ids: the saver had seen V1 (X's origin chain holds it), so under plain item
    // ids `heads.ts` would count V1 as superseded and list nothing. These stay live until a resolution or a
    // later local edit of the value (`supersede` reads the ids behind the prefix).
    const kb = 's' + itemKey(now)
    for (const [was, va] of over) {
      const ka = was.startsWith('s') ? was : 's' + was
      const rec: ConflictRecord = ka < kb ? [va, mine] : [mine, va]
      records.set(`${id}|${ka < kb ? ka : kb}|${ka < kb ? kb : ka}`, rec)
    }
    n++
  }
  return n
}

/** How many separate places the file now differs from the save: the peers' changes kept, for the notice. */
export function keptChanges(saved: string, now: string | null): number {
  if (now === null || now === saved) return 0
  let n = 0
  let inHunk = false
  for (const c of diffLines(saved, now)) {
    const changed = Boolean(c.added || c.removed)
    if (changed && !inHunk) n++
    inHunk = changed
  }
  return n
}

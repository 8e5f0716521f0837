/**
 * Three-way merge of a file's texts through the CRDT: the base is enrolled (deterministically) into two
 * models, one side's text is ingested into each — as two peers editing offline would — and the two
 * exchange their updates. What merges, merges (other keys, other todos, set elements, block-scalar lines);
 * a value both sides changed differently gets one winner *and* a conflict record, like a live race.
 *
 * Deterministic and symmetric: each side's Yjs client id is derived from its own text, so the same three
 * inputs give byte-identical output wherever and in whichever direction (A into B, B into A) they merge.
 */
import { FileModel, type Author, type Conflict } from '../model.js'
import type { Rules } from '../rules.js'
import { derivedClientId } from './clientid.js'
import { commonBase } from './common.js'
import { nowSeconds } from '../schema.js'

export interface Merge3Options {
  name: string
  rules: Rules
  ours?: Author
  theirs?: Author
  now?: () => number
  /**
   * When each side wrote (seconds; the merge driver's: the commits'), so that conflict records say when each
   * value was written. Without them both sides write at `now`, and the tie goes by client id.
   */
  times?: [number, number]
  /**
   * The sides' client ids (default: derived from `ours` and `theirs` by `sideClients`). A region merge
   * derives them from the whole files, so that a value both sides changed has the same winner either way.
   */
  clientIds?: [number, number]
  /**
   * Where each side's count of new ids starts (default 0). A region merge passes what the whole file's merge
   * would have counted before the region, so that a tie between lines both sides inserted at one place goes
   * the same way in both (ties.ts).
   */
  counters?: [number, number]
}

export interface Merge3Result {
  /** null when the merged file does not exist (deleted on one side, untouched on the other). */
  text: string | null
  conflicts: Conflict[]
  /** The merged document (the ours side after the exchange), for keeping its conflict records. */
  model: FileModel
  /** Each side's count of new ids once its text was taken in (see `counters`). */
  counters: [number, number]
}

/**
 * A side no caller identified: its author is plainly unknown. Named 'ours'/'theirs' before, which records
 * and logs showed as if they were people ("To keep theirs's …").
 */
export const UNKNOWN_OURS: Author = { id: 'merge:ours', name: 'an unknown author', kind: 'human' }
export const UNKNOWN_THEIRS: Author = { id: 'merge:theirs', name: 'another unknown author', kind: 'human' }
/** The other side's unknown author when this side's is known: "you and an unknown author". */
export const UNKNOWN_OTHER: Author = { ...UNKNOWN_THEIRS, name: 'an unknown author' }
const OURS = UNKNOWN_OURS
const THEIRS = UNKNOWN_THEIRS

/** A Yjs client id from a side's text alone (never 0, which Yjs treats specially in places). */
function sideClient(name: string, text: string): number {
  return derivedClientId('ctxsync-merge', name, text)
}

/** The two sides' client ids: from the texts alone, so that the direction of the merge does not matter. */
export function sideClients(name: string, ours: string, theirs: string): [number, number] {
  const a = sideClient(name, ours)
  // Equal texts merge to that text whatever the ids, which need only differ.
  return [a, ours === theirs ? (a % 0xfffffffe) + 1 : sideClient(name, theirs)]
}

/**
 * Merges `ours` and `theirs`, both derived from `base`. Throws YamlSyntaxError / RefusedFileError (from the
 * model) when one of the three texts cannot be taken in.
 */
export function merge3(base0: string, ours: string, theirs: string, o: Merge3Options): Merge3Result {
  // What both sides changed the same way is merged once: it starts in the base (see common.ts).
  let base = base0
  let enrollment: Uint8Array | null = null
  const common = commonBase(base0, ours, theirs)
  if (common !== base0) {
    try {
      enrollment = FileModel.enrollment(o.name, common, o.rules)
      base = common
    } catch {
      // The common base does not parse (lines both sides changed alike need others only one side changed).
    }
  }
  enrollment ??= FileModel.enrollment(o.name, base0, o.rules)
  // Without `times` both sides write at one time: the later-wins rule then breaks the tie by client id
  // (derived from the texts), so the merge is the same in either direction. With them, the later side wins.
  const t = (o.now ?? nowSeconds)()
  const mk = (author: Author, clientId: number, at: number, start: number) => {
    const m = new FileModel({ name: o.name, author, rules: o.rules, clientId, now: () => at })
    m.enroll(base, enrollment)
    m.idCount = start
    return m
  }
  const [ca, cb] = o.clientIds ?? sideClients(o.name, ours, theirs)
  const a = mk(o.ours ?? OURS, ca, o.times?.[0] ?? t, o.counters?.[0] ?? 0)
  const b = mk(o.theirs ?? THEIRS, cb, o.times?.[1] ?? t, o.counters?.[1] ?? 0)
  let counters: [number, number]
  try {
    if (ours !== base) a.ingest(ours)
    if (theirs !== base) b.ingest(theirs)
    counters = [a.idCount, b.idCount]
    a.applyRemote(b.encodeDiff(a.stateVector()), 'theirs')
  } finally {
    b.destroy()
  }
  const r = a.render()
  return { text: r.text, conflicts: a.conflicts(), model: a, counters }
}

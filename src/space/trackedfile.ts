/**
 * TrackedFile: the one owner of what ctxsync knows about one tracked file — its model's relation to the
 * file on disk, why it is held, and the bookkeeping that survives a restart (the sidecar's meta). Every
 * change goes through a method named after what happened; nothing else writes these fields. It does no
 * I/O: the document's worker (`worker.ts`) reads and writes the file and persists `persisted()` when a method
 * says it must (`Persist`), or once at the end of its turn.
 *
 *                  held(problem)
 *        ┌───────────────────────────────► held ──┐ keepBase: the file's text is kept in meta
 *        │                                  │  ▲  │ while the model moves ahead of the file
 *        │         tookIn (parses again)    │  └──┘
 *        │  ┌───────────────────────────────┘
 *        │  ▼        refused(reason)
 *   ───► ok ─────────────────────────────► refused
 *        ▲  │        unreadable(reason)
 *        │  └──────────────────────────────► unreadable
 *        └──── tookIn: a later save it can take in (from refused or unreadable)
 *
 *   damagedState(reason), from any state: refused for good (its stored state is outside crdt/limits.ts).
 *
 * What is known of the disk (`Disk`) moves on its own: unknown (not looked since the space opened) →
 * file(hash) (read, or written by us) / absent (deleted, or never there).
 *
 * A write-back passes: startedWrite (meta `writing` persisted BEFORE the rename: a kill -9 right after it
 * must not leave a file the next start takes for an offline edit) → wrote(hash) → finishedWrite; or
 * abortedWrite when a save landed first. While the model is ahead of the file (a held file, or a peer's
 * update applied and not yet written), the file's text is kept as the base (`baseText`), persisted BEFORE
 * the update lands, so an edit made while we are down is diffed against what the file really held. Every
 * write keeps both the text it replaces and the text it writes, and a save being taken in is marked
 * (`takingIn`) before its operations land: a restart then knows every text the file may hold beneath an
 * offline edit (`restartBases`) and never has to guess it from the model's rendering.
 *
 * The meta's shape and JSON field names (those of earlier versions load unchanged) are in `filemeta.ts`.
 */
import { maxFileBytes } from '../fs/atomic.js'
import type { DocMeta } from '../fs/StorageAdapterInterface.js'
import type { FileModel, Rendered } from '../crdt/model.js'
import { pendingBeyond } from '../crdt/pending.js'
import { sha256hex, type DocName } from '../ids.js'
import { mergeInto, parseStateVector, type StateVector } from '../net/statevector.js'
import { dropUndefined, readMeta, svOf, svText, writeMeta, type FileMeta, type TextMark } from './filemeta.js'
import { IncompleteWait } from './incomplete.js'

export type FileState = 'ok' | 'held' | 'refused' | 'unreadable'

export interface FileProblem {
  line: number
  col: number
  message: string
  /** Held a moment only, nothing for the user to fix (a save caught mid-write): shown as pending. */
  transient?: true
}

/** What the file on disk holds as far as we know. */
export type Disk = { kind: 'unknown' } | { kind: 'absent' } | { kind: 'file'; hash: string }

/** `now`: the worker writes meta before its next step (crash safety); `soon`: at the end of the turn. */
export type Persist = 'now' | 'soon' | null

const SEEN_MAX = 64
/** Hash prefixes keep the meta small; 64 bits are plenty within one file's history. */
const short = (hash: string) => hash.slice(0, 16)
const UNKNOWN: Disk = { kind: 'unknown' }
const ABSENT: Disk = { kind: 'absent' }

export class TrackedFile {
  #state: FileState = 'ok'
  #problem: FileProblem | null = null
  /** The last library dump taken in as its data changes (keep-format), for `status`; not persisted. */
  #formatKept: { at: string; message: string } | null = null
  #damaged: string | null = null
  #disk: Disk = UNKNOWN
  #meta: FileMeta = { base: {}, seen: [], acked: new Map() }
  #extra: DocMeta = {}
  #ioError: string | null = null
  #dirty = false
  #wroteAt = 0
  /** How long its model's state has waited for an update it depends on, unwritten (`incomplete.ts`). */
  readonly incomplete = new IncompleteWait()

  constructor(readonly name: DocName, readonly model: FileModel) {}

  // ── what others may read ──────────────────────────────────────────────────────────────────────────

  get state(): FileState { return this.#state }
  get problem(): FileProblem | null { return this.#problem }
  get formatKept(): { at: string; message: string } | null { return this.#formatKept }
  /** Why the stored state is outside the limits of `crdt/limits.ts`; null when it is not. */
  get damaged(): string | null { return this.#damaged }
  get disk(): Disk { return this.#disk }
  /** The file's hash as far as known; null when it is absent or not looked at yet. */
  get diskHash(): string | null { return this.#disk.kind === 'file' ? this.#disk.hash : null }
  /** Why the file could not be read or written lately (taken in or written again once it can be). */
  get ioError(): string | null { return this.#ioError }
  get baseHash(): string | null { return this.#meta.base.hash ?? null }
  /** The base text kept while the model is ahead of the file, if any. */
  get keptBase(): { text: string; ids?: string[] } | null {
    const b = this.#meta.base
    return b.text !== undefined ? { text: b.text, ...(b.ids ? { ids: b.ids } : {}) } : null
  }
  get writing(): Readonly<TextMark & { hash: string }> | null { return this.#meta.writing ?? null }
  /** When our last write-back's rename was done (ms; 0: none yet): a save found over it was written after (saverace.ts). */
  get wroteAt(): number { return this.#wroteAt }
  /** True when the file's bookkeeping changed since `persisted()` was last called. */
  get dirty(): boolean { return this.#dirty }
  /** Is `disk` what we know the file holds? */
  diskIs(hash: string | null): boolean { return hash === null ? this.#disk.kind === 'absent' : this.diskHash === hash }
  hasSeen(hash: string): boolean { return this.#meta.seen.includes(short(hash)) }
  /** Local changes no peer is known to hold. */
  get pending(): boolean { return pendingBeyond(this.model.doc, this.#meta.acked) }

  // ── the store boundary ────────────────────────────────────────────────────────────────────────────

  /** Takes the meta a sidecar held (today's field names; anything else is kept as it was). */
  restore(raw: DocMeta): void {
    const { meta, extra } = readMeta(raw)
    this.#meta = meta
    this.#extra = extra
    this.#dirty = false
  }

  /** The meta to persist, in today's field names; clears `dirty`. */
  persisted(): DocMeta {
    this.#dirty = false
    return this.snapshotMeta()
  }

  /** The meta as it is now, without clearing `dirty` (compaction writes it beside the snapshot). */
  snapshotMeta(): DocMeta {
    return writeMeta(this.#meta, this.#extra)
  }

  // ── transitions ───────────────────────────────────────────────────────────────────────────────────

  /** Read the file (or was told of it): it holds `hash`. */
  sawOnDisk(hash: string): void { this.#disk = { kind: 'file', hash } }

  /** The file is gone (or was never there). */
  sawAbsent(): void { this.#disk = ABSENT }

  /** Deleted on disk while we ran: the model deletes it too, unless it holds nothing or is damaged. */
  deletedOnDisk(): Persist {
    this.#disk = ABSENT
    if (!this.model.exists() || this.#damaged !== null) return null
    this.model.deleteFile()
    return this.forgetBaseHash()
  }

  /** The file holds exactly the model's rendering `r` (startup, after git): nothing to take in. */
  matchesRendering(r: Rendered, hash: string): Persist {
    this.model.setBase(r)
    this.#disk = { kind: 'file', hash }
    this.noteSeen(hash)
    this.setOk()
    if (this.#meta.base.hash === hash) return this.#dirty ? 'soon' : null
    this.#meta.base.hash = hash
    return this.touch()
  }

  /**
   * A save was taken in (or enrolled): the file parses and the model holds it. Returns true when it was
   * held or refused before. The base is settled after any write of the merge (`finishedWrite`).
   */
  tookIn(): boolean {
    const wasHeld = this.#state !== 'ok'
    this.setOk()
    return wasHeld
  }

  keptFormat(message: string): void { this.#formatKept = { at: new Date().toISOString(), message } }
  /** The file does not parse (or is too costly to take in now): held. Returns true when that is news. */
  held(problem: FileProblem): boolean {
    const first = this.#state !== 'held' || this.#problem?.line !== problem.line || this.#problem.message !== problem.message
    this.#state = 'held'
    this.#problem = problem
    this.keepBase()
    return first
  }

  /** A YAML feature ctxsync does not model: refused until a save it can take in. */
  refused(reason: string): void {
    this.#state = 'refused'
    this.#problem = { line: 1, col: 1, message: reason }
  }

  /** Binary, not UTF-8, too large or a link: held with why until it is readable again. */
  unreadable(reason: string): FileProblem {
    const message =
      reason === 'binary' || reason === 'not-utf8'
        ? 'not UTF-8 text: ctxsync only syncs text YAML files'
        : reason === 'too-large'
          ? `too large to sync (over ${maxFileBytes()} bytes; CTXSYNC_MAX_FILE_BYTES raises the limit)`
          : reason === 'symlink'
            ? 'a symbolic link: ctxsync does not follow links'
            : `cannot be read (${reason})`
    this.#state = reason === 'symlink' ? 'refused' : 'unreadable'
    this.#problem = { line: 1, col: 1, message }
    return this.#problem
  }

  /** Its stored state is outside the limits: refused for good. Returns the problem the first time, else null. */
  damagedState(reason: string): FileProblem | null {
    if (this.#damaged !== null) return null
    this.#damaged = reason
    this.#state = 'refused'
    this.#problem = { line: 1, col: 1, message: `its sync state is damaged (${reason}): the file is held and not synced; to rebuild it from the file, stop ctxsync, delete its sidecar under .ctxsync/docs and start again` }
    return this.#problem
  }

  /** While a file is held the model may move ahead of it: remember what the user has, to diff against later. */
  keepBase(): Persist {
    const text = this.model.baseText
    if (text === null || this.#meta.base.text === text) return null
    this.#meta.base.text = text
    this.#meta.base.ids = this.model.baseIds()
    this.#meta.base.sv = svText(this.model.heldText((t) => t === text)?.sv)
    return this.touch()
  }

  /**
   * A peer's update is about to be applied to a file in sync: from then until the write-back the model is
   * ahead of the file, so the file's text is kept first ('now': persisted before the update lands). Not looked
   * at yet (a start, before its reconcile): the rendering is its text if it is the last synced one; unkept, a
   * kill before the write-back made the next start re-author every value (crash-join.test.ts).
   */
  keepBaseBeforeRemote(): Persist {
    const b = this.#meta.base, r = this.#state === 'ok' && !b.text && b.hash && (this.model.baseText === null || this.#disk.kind === 'unknown') ? this.model.render() : null
    if (r?.text != null && sha256hex(r.text) === b.hash) return Object.assign(b, { text: r.text, ids: this.model.idsOf(r), sv: svText(parseStateVector(this.model.stateVector())) }), this.touch(), 'now'
    if (this.#state !== 'ok' || b.text || this.model.baseText === null || this.#disk.kind === 'unknown') {
      // Meta waiting for its lazy write (a hold's kept base, a settled base hash) says what the file holds:
      // it lands before the update, or a crash after the update is acknowledged loses it, and the user's
      // next save would be diffed against the model's rendering (reverting what peers sent).
      return this.#dirty ? 'now' : null
    }
    this.keepBase()
    return 'now'
  }

  /** A save (`text`, `hash`) is about to be taken in ('now': on disk before its operations). */
  takingIn(text: string, hash: string): Persist {
    const client = this.model.doc.clientID
    this.#meta.takingIn = { hash, text, client, clock: parseStateVector(this.model.stateVector()).get(client) ?? 0, seq: nextSeq() }
    this.touch()
    return 'now'
  }

  /**
   * After a restart, the texts the file may hold beneath an offline edit, with their node ids where meta
   * kept them (none for a save being taken in: matched against the model). `certain`: the last text we
   * know it held (a save being taken in, else the text kept while the model was ahead); `maybe`: a text
   * whose rename may or may not have happened after that. Null when meta knows of no such text.
   */
  restartBases(): { certain: { text: string; ids: string[] | null; sv?: StateVector } | null; maybe: { text: string; ids: string[] } | null; history: string[] } {
    const m = this.#meta
    // A save marked but whose operations never landed was not taken in: the file held it, but as an edit.
    const took = m.takingIn && this.tookInBeforeDeath(m.takingIn.hash) ? m.takingIn : null
    const certain = took ? { text: took.text, ids: null } : m.base.text !== undefined && m.base.ids ? { text: m.base.text, ids: m.base.ids, ...svOf(m.base.sv) } : null
    const w = m.writing
    const later = w?.text !== undefined && w.ids && (!took || (w.seq ?? 0) > took.seq)
    return { certain, maybe: later ? { text: w.text!, ids: w.ids! } : null, history: m.history ?? [] }
  }

  /** Was the file's `hash` taken in by a life that died before its turn was done (see `takingIn`)? */
  tookInBeforeDeath(hash: string): boolean {
    const t = this.#meta.takingIn
    return t?.hash === hash && (parseStateVector(this.model.stateVector()).get(t.client) ?? 0) > t.clock
  }

  /**
   * About to rename `text` over the file, which holds `replaced` ('now': the mark must be on disk before the
   * rename). Should we die around the rename and the user edit the file before the next start, the file is
   * one of the two texts and the edit is diffed against the one it was made from (`restartBases`):
   * both go into meta with their node ids. Without the replaced text a restart diffed such
   * an edit against the model's rendering and undid every change the file had not shown yet (found by the
   * crash test's watch loop).
   */
  startedWrite(text: string, ids: string[], replaced: { text: string; ids: string[]; sv?: StateVector } | null): Persist {
    this.#meta.writing = { hash: sha256hex(text), text, ids, seq: nextSeq() }
    if (replaced) Object.assign(this.#meta.base, { text: replaced.text, ids: replaced.ids, sv: svText(replaced.sv) })
    this.touch()
    return 'now'
  }

  /** A save landed first: nothing was written. */
  abortedWrite(): Persist {
    delete this.#meta.writing
    return this.touch()
  }

  /** The rename is done: the file holds `hash`. */
  wrote(hash: string): void {
    this.#disk = { kind: 'file', hash }
    this.#wroteAt = Date.now()
    this.noteSeen(hash)
  }

  /** After a write (or a removal): the file is the model's rendering; nothing is kept any more. */
  finishedWrite(): Persist {
    delete this.#meta.takingIn
    this.#meta.base = dropUndefined({ hash: this.diskHash ?? undefined })
    delete this.#meta.writing
    return this.settledHistory()
  }

  /** We removed the file (the model deleted it). */
  removed(): Persist {
    this.#disk = ABSENT
    return this.forgetBaseHash()
  }

  /** Deleted while no ctxsync ran (it was there when we last looked). */
  deletedWhileAway(): Persist {
    this.#disk = ABSENT
    this.model.deleteFile()
    return this.forgetBaseHash()
  }

  /** Git put the file in a state the model now holds (or removed it): that is the base from now on. */
  recordSettledBase(hash: string | null): Persist {
    if (hash === null) delete this.#meta.base.hash
    else this.#meta.base.hash = hash
    delete this.#meta.writing
    if (hash) this.noteSeen(hash)
    return this.settledHistory()
  }

  /** The texts before the settled one, for a save made from one of them while no daemon runs. */
  private settledHistory(): 'soon' {
    this.#meta.history = this.model.olderTexts()
    return this.touch()
  }

  noteSeen(hash: string | null | undefined): void {
    if (!hash) return
    const h = short(hash)
    const cur = this.#meta.seen
    if (cur[0] === h) return
    this.#meta.seen = [h, ...cur.filter((x) => x !== h)].slice(0, SEEN_MAX)
    this.touch()
  }

  /** Merges another state's `seen` (a branch merged into this one). */
  mergeSeen(other: unknown): Persist {
    if (!Array.isArray(other)) return null
    const strs = other.filter((x): x is string => typeof x === 'string')
    this.#meta.seen = [...new Set([...this.#meta.seen, ...strs])].slice(0, SEEN_MAX * 2)
    return this.touch()
  }

  /**
   * A peer holds `sv`. Counted only up to what we hold: a claim of clocks nobody has written yet (a bug, or
   * a hostile peer) would otherwise mark every later local edit as acknowledged. True when it is news.
   */
  notedRemoteState(sv: StateVector): boolean {
    const mine = parseStateVector(this.model.stateVector())
    const kept: StateVector = new Map()
    for (const [client, clock] of sv) {
      const c = Math.min(clock, mine.get(client) ?? 0)
      if (c > (this.#meta.acked.get(client) ?? 0)) kept.set(client, c)
    }
    if (kept.size === 0) return false
    mergeInto(this.#meta.acked, kept)
    this.touch()
    return true
  }

  /** Reading or writing the file failed. True the first time (said once per failure). */
  ioFailed(message: string): boolean {
    const first = this.#ioError === null
    this.#ioError = message
    return first
  }

  /** Reading or writing works again. True when it had failed. */
  ioRecovered(): boolean {
    if (this.#ioError === null) return false
    this.#ioError = null
    return true
  }

  private setOk(): void {
    this.#state = 'ok'
    this.#problem = null
  }

  private forgetBaseHash(): Persist {
    delete this.#meta.base.hash
    return this.touch()
  }

  private touch(): 'soon' {
    this.#dirty = true
    return 'soon'
  }
}


/** Orders the marks of one file's meta (a write started after a save began to be taken in, or before). */
let seqCounter = 0
const nextSeq = (): number => (seqCounter = Math.max(seqCounter + 1, Date.now()))

/**
 * FileModel: one tracked file as a Y.Doc, the main entry point the rest of ctxsync uses from `crdt/`. The
 * others are small and stateless: the rules (`rules.ts`), the parse check (`parse.ts`, `position.ts` for
 * messages), the state limits (`limits.ts`), conflict records for display (`present.ts`), checks of
 * foreign updates (`guard.ts`, `compact.ts`), git marks (`markFromGit`/`gitMarked` below) and the merges (`merge/`).
 *
 * Pure: it is given text and updates and returns text and updates; it never touches the disk or the
 * network. It remembers the *base* — the texts it last gave to (or took from) the file, annotated with
 * node ids (`recent.ts`) — so that a local edit is diffed against what the user actually had, not against a
 * CRDT state that peers may have moved since (see `diff.ts`), even when the save was made from an older
 * text than the file's last (a stale editor buffer: `stalesave.ts`).
 */
import * as Y from 'yjs'
import type { DocIR, MapEntry, SeqItem } from './ir.js'
import { parses, parseYaml, RefusedFileError, withinLimits, YamlSyntaxError } from './parse.js'
import { renderDocInfo, type Span } from './render.js'
import { incrementalParse, parsedSpans } from './incremental.js'
import { RecentTexts, type Chosen, collectIds, equalBytes, heldFor, madeFrom, stateOf, withState, type Held } from './recent.js'
import { changedSince, keptChanges, recordOverwrites } from './stalesave.js'
import { applyEdit, applyTold, told, type StaleTold as StaleSave, type Undone } from './staletell.js'
import { fallbackOf } from './fallback.js'
import { annotate } from './annotate.js'
import { defaultRules, type Rules } from './rules.js'
import { AUTHORS, GIT_MARKS, ROOT, nowSeconds, revertMarkKey, type Credit, type RevertMark } from './schema.js'
import { enrollmentOf } from './enrollment.js'
import { Tree, confirmShown } from './tree.js'
import { Writer } from './write.js'
import { Differ } from './diff.js'
import { RaceWatch, supersede } from './conflicts.js'
import { compactChanged } from './compact.js'
import { changedEntriesParse } from './rendercheck.js'
import { describeConflicts, resolveConflict, type Conflict, type Take } from './present.js'
import { LOAD, LOCAL, type Author, type DeferredCheck, type FileModelOptions, type RemoteOrigin, type Rendered } from './modeltypes.js'

export { YamlSyntaxError, RefusedFileError, LOCAL, LOAD }
export type { Conflict, Take, StaleSave, Undone, Author, RemoteOrigin, Rendered, FileModelOptions, DeferredCheck }

export class FileModel {
  /** How often a complete (writable) state needed the canonical fallback rendering (`render.ts` repairs should make it 0). */
  static fallbacks = 0
  /** The same for incomplete states (Yjs applies a waiting update's deletions: often unparsable; never written). */
  static transientFallbacks = 0
  readonly doc = new Y.Doc()
  readonly tree: Tree
  readonly name: string
  private rules: Rules
  private author: Author
  /** The texts the file held lately, newest last: the base of the next save (`recent.ts`). */
  private recent = new RecentTexts((t, ids, ours) => heldFor(t, ids, this.base?.ir ?? null, this.rules, ours, (id) => this.tree.has(id)))
  /** The text last ingested, parsed and annotated with node ids (see `keepIngestedAsBase`). */
  #input: Held | undefined
  private validOnce = false
  idCount = 0 // ids made for children without identity (`u:<client>.<n>`); a region merge sets where it starts (merge/ties.ts)
  private authored = false
  private readonly live: boolean
  private readonly races: RaceWatch
  private now: () => number
  /** The time of this ingest's writes when it is not now (`timed`). */
  #at: number | undefined

  constructor(opts: FileModelOptions) {
    this.name = opts.name
    this.author = opts.author
    this.rules = opts.rules ?? defaultRules
    this.now = opts.now ?? nowSeconds
    this.live = opts.live ?? false
    if (opts.clientId !== undefined) this.doc.clientID = opts.clientId
    this.tree = new Tree(this.doc, this.rules)
    this.races = new RaceWatch(this.tree)
    this.doc.on('afterTransaction', (tr: Y.Transaction) => {
      compactChanged(tr)
      if (tr.local || tr.origin === LOAD || tr.origin === LOCAL) return
      this.races.observe(tr)
    })
  }

  /** The update that enrolls `text` as document `name`: identical bytes on every peer for equal input. */
  static enrollment(name: string, text: string, rules: Rules = defaultRules): Uint8Array { return enrollmentOf(name, text, rules) }

  /**
   * Enrolls the file's first text (deterministic: see `enrollment`, which may be passed in when it was
   * computed already). Throws YamlSyntaxError or RefusedFileError like `ingest`. Returns the rendering,
   * which equals `text` for every file that parses. `credit`: who wrote the text, when it is not this peer.
   */
  enroll(text: string, enrollment: Uint8Array = FileModel.enrollment(this.name, text, this.rules), credit?: Credit): Rendered {
    if (!this.isEmpty) throw new Error(`${this.name} is already enrolled`)
    Y.applyUpdate(this.doc, enrollment, LOCAL)
    // The enrollment's client (derived from the text) names no one: a file a peer created was taken in as by
    // nobody (issue 16, black-box tester). Its creator names itself its author (peers enrolling alike each do)
    // — but git's committed text names its commit's writer (space/enrollcredit.ts): each member enrolling it
    // named itself, and blame named whichever member's entry won.
    const by = credit ? [credit[0], credit[1], credit[2]] : [this.author.id, this.author.name, this.author.kind]
    if (this.live) for (const c of Y.parseUpdateMeta(enrollment).to.keys()) this.doc.transact(() => this.doc.getMap(AUTHORS).set(String(c), by), LOCAL)
    // `text` parsed (the enrollment did): a rendering equal to it needs no second parse.
    const out = this.render(text)
    this.recent.reset(null)
    this.hold(out, false)
    return out
  }

  get isEmpty(): boolean { return this.doc.store.clients.size === 0 }

  load(updates: Iterable<Uint8Array>): void {
    this.doc.transact(() => {
      for (const u of updates) Y.applyUpdate(this.doc, u, LOAD)
    }, LOAD)
  }

  /** Applies a peer's update; records value races it reveals (a local write every peer makes alike). */
  applyRemote(update: Uint8Array, from: string): void {
    Y.applyUpdate(this.doc, update, { remote: from } satisfies RemoteOrigin)
    this.flushRaces()
  }

  /** Records the races, and shows each touched value's latest live competitor (`heads.ts`). */
  private flushRaces(): void {
    if (this.races.pending) this.races.flush((f) => this.local(f, false))
  }

  /**
   * Runs local writes in one transaction, registering this peer as the author of this session's client. A
   * local edit of a value supersedes the conflict records of its node (`supersede`), unless it is a copy.
   */
  local(f: () => void, edit = true, seen?: ReadonlyMap<number, number>): void {
    this.doc.transact((tr) => {
      const me = this.doc.clientID
      const before = Y.getState(this.doc.store, me)
      const author = () => this.doc.getMap(AUTHORS).set(String(me), [this.author.id, this.author.name, this.author.kind])
      if (!this.authored) {
        this.authored = true
        author()
      }
      f()
      if (edit) supersede(this.tree, tr, this.now(), seen)
      // An edit that only deletes (a comment line) would not move the state vector: `pending`, acks and "what
      // does the peer lack" read it as nothing new (join generator world 556672). The author entry moves it.
      if (Y.getState(this.doc.store, me) === before && tr.deleteSet.clients.size > 0) author()
    }, LOCAL)
  }

  private writer(seen?: Map<number, number>): Writer {
    return new Writer(this.tree, {
      time: this.#at ?? this.now(),
      unique: () => `${this.doc.clientID.toString(36)}.${(this.idCount++).toString(36)}`,
      rules: this.rules,
      ...(seen ? { seen } : {}),
    })
  }

  /**
   * Takes the file's new text. Throws YamlSyntaxError (the file is held) or RefusedFileError. Returns the
   * text the file should now hold (it differs from `text` when peers' changes were merged in meanwhile),
   * and `stale` when the save was made from an older text than the file's last (`recent.ts`): how many of the
   * peers' changes since were kept, how many values it overwrote (recorded). `cut`: found cut short, left so.
   * `deliberate`: written whole on purpose (`restore`, `undo`: marked so for peers), so made from the file's last text, never stale.
   * `at`: when it was saved (seconds), for a save found at a start, made while no ctxsync ran.
   */
  ingest(text: string, cut = false, deliberate: boolean | RevertMark = false, at?: number): Rendered & { changed: boolean; stale?: StaleSave; undid?: Undone } {
    const newest = this.recent.newest
    const chosen = deliberate ? newest && { base: newest, stale: false } : this.recent.baseFor(text)
    // The file has not shown what peers sent since (held, its write-back not done): a stale save of its text,
    // but no news to the person (a live merge, not their buffer being old), so nothing kept is reported.
    const unseen = Boolean(chosen && !chosen.stale && chosen.base.sv && this.beyond(chosen.base.sv))
    const take = () => this.take(text, unseen ? { ...chosen!, stale: true } : chosen, cut, deliberate)
    const out = at === undefined ? take() : this.timed(at, take)
    return unseen && out.stale && !out.stale.overwritten ? { ...out, stale: { ...out.stale, kept: 0 } } : out
  }

  /** Does the document hold another peer's writes beyond `sv`? */
  private beyond(sv: Map<number, number>): boolean { return [...stateOf(this.doc)].some(([c, k]) => c !== this.doc.clientID && k > (sv.get(c) ?? 0)) }

  /**
   * A joining clone's save (space/join.ts), made from `from` (a committed text; its node ids and the state
   * it showed when known) at `at` (the file's mtime, seconds): taken in as a stale save of that text, where a
   * value the live context changed too is recorded and the later of the two writes shows (`heads.ts`).
   */
  ingestJoin(text: string, from: { text: string; ids: readonly string[] | null; sv?: Map<number, number> }, at: number): void {
    const held = heldFor(from.text, from.ids, this.base?.ir ?? null, this.rules, false, (id) => this.tree.has(id))
    if (!held) return void this.ingest(text)
    if (from.sv) held.sv = from.sv
    this.timed(at, () => this.take(text, { base: held, stale: true }))
  }

  /** Runs `f` with its writes made at `at` (never later than now); the records' later write shows. */
  private timed<T>(at: number, f: () => T): T {
    this.#at = Math.min(at, this.now())
    let r: T
    try {
      r = f()
    } finally {
      this.#at = undefined
    }
    this.races.touchRecorded()
    this.flushRaces()
    return r
  }

  private take(text: string, chosen: Chosen | null, cut = false, deliberate: boolean | RevertMark = false): Rendered & { changed: boolean; stale?: StaleSave; undid?: Undone } {
    const base = chosen?.base ?? null
    const spliced = base ? incrementalParse(base.text, base.ir, text, base.spanOf) : null
    const ir = withinLimits(spliced?.ir ?? parseYaml(text))
    // The base as parsed (a rendering may hold repaired text); its syntax (head, trail, separators) as the CRDT holds it.
    const baseIr = !base ? null : spliced || base.parsed ? base.ir : { ...annotate(parseYaml(base.text), base.ir, this.rules, true), head: base.ir.head, trail: base.ir.trail }
    const before = this.doc.store.clients.size ? Y.encodeStateVector(this.doc) : null
    const stale = chosen?.stale && baseIr ? chosen.base : null
    let o: ReturnType<typeof applyTold> & { undid?: Undone | null } = { overwritten: 0, values: [], unnamed: 0 }
    this.local(() => {
      if (stale) o = applyTold(this.tree, stale, (seen) => new Differ(this.writer(seen)), baseIr!, ir, this.#at !== undefined, this.recent.from(stale), chosen?.own)
      else { const w = this.writer(); o.undid = applyEdit(this.tree, new Differ(w), baseIr, ir, deliberate ? undefined : chosen?.equals); if (deliberate) confirmShown(this.tree, w, ir) }
      const a = this.author
      if (typeof deliberate === 'object') this.doc.getMap(GIT_MARKS).set(revertMarkKey(this.doc.clientID), [deliberate.via === 'undo' ? `undo:${deliberate.ofHash ?? ''}` : 'restore', this.now(), [a.id, a.name, a.kind, this.now()]])
    }, true, stale?.sv ? new Map([...stale.sv, [this.doc.clientID, Infinity]]) : undefined) // supersedes only what the save had seen
    const after = Y.encodeStateVector(this.doc)
    const out = this.render(text)
    // The diff annotated `ir` with node ids: while the rendering cannot be written, the file stays the base
    // (a rendering becomes the base with spans of its own). A stale save's text never serves as a stale
    // base itself (recent.ts), nor does its base again.
    if (stale) stale.used = true
    this.#input = { text, ir, parsed: true, spanOf: spliced?.spanOf ?? parsedSpans, ours: false, sv: out.text === text || !base?.sv ? stateOf(this.doc) : madeFrom(base.sv, this.doc), used: Boolean(stale), ...(cut ? { cut } : {}) }
    this.recent.push(this.#input)
    if (out.complete) this.setBase(out)
    const changed = !before || !equalBytes(before, after)
    return { ...out, changed, ...(stale ? { stale: { kept: keptChanges(text, out.text), ...told(o, chosen) } } : {}), ...(o.undid?.count ? { undid: o.undid } : !stale && chosen?.ownBack ? { undid: { writes: 0, values: [], count: 0, ownBack: chosen.ownBack } } : {}) }
  }

  /** `ingest` of a joining clone's merge (space/join.ts) made at `at`: a value it and the live context both changed since `committed` is recorded. */
  ingestOver(text: string, committed: string, at: number): void {
    const live = this.base
    const since = live ? changedSince(this.tree, annotate(parseYaml(committed), live.ir, this.rules)) : new Map()
    this.timed(at, () => {
      this.ingest(text)
      if (since.size) this.local(() => recordOverwrites(this.tree, since, true))
    })
  }

  /**
   * The rendering of the last `ingest` could not be written (the file changed again first): the file's
   * next text was made from the ingested text, so that text, not the rendering, is what to diff it with.
   */
  keepIngestedAsBase(): void {
    if (this.#input) this.recent.backTo(this.#input)
  }

  /** The file still holds `text`, made before any peer's write here (a joining clone's): saves made from it are stale. */
  diskHolds(text: string): void {
    const h = heldFor(text, null, this.base?.ir ?? null, this.rules, false, (id) => this.tree.has(id))
    if (h) this.recent.reset({ ...h, sv: new Map() })
  }

  /** Marks the file deleted (a register write: a concurrent edit keeps it, with a conflict). */
  deleteFile(): void {
    if (!this.exists()) return
    this.local(() => this.writer().tombstone(ROOT))
    this.recent.reset(null)
  }

  exists(): boolean {
    return this.tree.desc(ROOT) !== undefined && this.tree.alive(ROOT)
  }

  get complete(): boolean { return this.doc.store.pendingStructs === null && this.doc.store.pendingDs === null }

  /**
   * Renders the current state. Untouched entries reuse their text (`render.ts`), and only what was
   * rendered afresh is checked to parse — unless the result equals `expect`, text that already parsed.
   */
  render(expect?: string): Rendered {
    const d = this.renderDeferred(expect)
    return 'rendered' in d ? d.rendered : d.finish(parses(d.text))
  }

  /**
   * `render`, except that a check of the whole text (the first rendering's, or one after the root changed)
   * is left to the caller, which may run it on another thread and pass the verdict to `finish`. On a first
   * sync of many large files that parse is most of the work, and it need not wait for the main thread.
   */
  renderDeferred(expect?: string): { rendered: Rendered } | DeferredCheck {
    const complete = this.complete
    if (!this.exists()) return { rendered: { text: null, ir: null, complete } }
    const source = this.tree.toIR()
    const sv = stateOf(this.doc)
    const { text, fresh, spans } = renderDocInfo(source)
    const dirty = this.tree.takeDirty()
    const finish = (ok: boolean): Rendered => {
      if (ok) {
        this.validOnce = true
        return { text, ir: source, complete, parsed: text === expect, spans, sv }
      }
      if (complete) FileModel.fallbacks++
      else FileModel.transientFallbacks++
      // The dirty set is spent and the broken text stays in the chunk cache: the next rendering cannot
      // know which entries to check, so it checks the whole text.
      this.validOnce = false
      const fb = fallbackOf(source)
      return { text: fb.text, ir: annotate(fb.ir, source, this.rules), complete, parsed: true, sv }
    }
    // The first rendering is checked whole; later ones entry by entry, for the entries that changed.
    const valid = text === expect || (!this.validOnce || dirty.has(ROOT) ? 'whole' : changedEntriesParse(this.tree, text, fresh, spans, dirty))
    return valid === 'whole' ? { text, complete, finish } : { rendered: finish(valid) }
  }

  /** Records what the file on disk now holds (after writing `r.text`, or after ingesting it). */
  setBase(r: Rendered): void { this.hold(r, true) }

  /** `ours`: a rendering we gave the file (not what it was given); the same text as the last is a refresh. */
  private hold(r: Rendered, ours: boolean): void {
    const spans = r.spans
    if (r.text === null || !r.ir) return this.recent.reset(null)
    this.recent.push({ text: r.text, ir: r.ir, parsed: r.parsed ?? false, spanOf: spans ? (c) => spans.get(c as never) : parsedSpans, ours, ...(r.sv ? { sv: r.sv } : {}) })
  }

  private get base(): Held | null { return this.recent.newest }
  get baseText(): string | null { return this.base?.text ?? null }
  /** The text a YAML library's whole-file `dump` was made from, for keep-format (`RecentTexts.dumpBase`). */
  dumpBase(dump: string): string | null { return this.recent.dumpBase(dump)?.text ?? this.baseText }

  /**
   * A few texts the file held before its last, newest first (kept in meta, so a save made from one of them
   * while no daemon ran is diffed against it after a restart: `space/reconcile.ts`). Bounded to twice the
   * last text's size and 16 KB more.
   */
  olderTexts(): string[] { return this.recent.older(3, 2 * (this.base?.text.length ?? 0) + 16_384) }

  /** Node ids of a rendering in document order (see `baseIds`). */
  idsOf(r: Rendered): string[] { return r.ir ? collectIds(r.ir) : [] }
  /** Node ids of the base in document order, to rebuild the base from its text after a restart. */
  baseIds(): string[] { return this.base ? collectIds(this.base.ir) : [] }
  /** The newest of the recent texts `match` accepts (the one a file holds), with its node ids. */
  heldText(match: (text: string) => boolean): { text: string; ids: string[]; sv?: Map<number, number> } | null {
    const h = this.recent.find(match)
    return h ? { text: h.text, ids: collectIds(h.ir), ...(h.sv ? { sv: h.sv } : {}) } : null
  }

  /**
   * After a restart the file shows `text`, a rendering we gave it, while the model moved on to `r` (the
   * write-back had not happened): `text` is the base until then, with the node ids meta kept for it
   * (`ids`) or else matched against `r`. Diffed against `r`, a later edit of the file would undo every
   * change the file has not shown yet.
   */
  fileBehind(text: string, r: Rendered, ids: readonly string[] | null): void {
    const h = r.text === text ? null : heldFor(text, ids, r.ir, this.rules, true)
    if (h) this.recent.reset(h)
    else this.setBase(r)
  }

  /**
   * After a restart, what the file may have been edited from, oldest first (space/trackedfile
   * `restartBases`): the last text it is known to have held, and a text whose write may have landed after
   * it. The next `ingest` picks the one its text was made from (`recent.ts`). The rendering `r` is no
   * candidate when these exist: an offline edit that appended an item where peers had appended some reads
   * as near the rendering as the text it was made from, and was taken as deleting theirs (crash test).
   */
  recall(texts: ReadonlyArray<{ text: string; ids: readonly string[] | null; sv?: Map<number, number> }>, r: Rendered): void {
    this.recent.reset(null)
    texts.forEach((t, i) => this.recent.push(withState(heldFor(t.text, t.ids, r.ir, this.rules, i > 0, (id) => this.tree.has(id)), t.sv)))
    if (this.recent.size === 0 && r.complete && r.text !== null && r.ir) this.setBase(r)
  }

  conflicts(): Conflict[] {
    return describeConflicts(this.name, this.tree, this.rules)
  }

  resolve(conflictId: string, take: Take): boolean {
    let done = false
    this.local(() => {
      done = resolveConflict(this.name, this.tree, this.writer(), this.rules, conflictId, take, this.author.id)
    })
    return done
  }

  /** Does the document hold every write of state vector `sv`? */
  holds(sv: Map<number, number>): boolean { return [...sv].every(([c, clock]) => Y.getState(this.doc.store, c) >= clock) }
  /** Was the file's text (the base) rendered from a state holding every write of `sv`? (It shows them, or they show nothing.) */
  baseHolds(sv: ReadonlyMap<number, number>): boolean { const b = this.base?.sv; return !!b && [...sv].every(([c, k]) => (b.get(c) ?? 0) >= k) }

  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc)
  }

  encodeDiff(remoteSV?: Uint8Array): Uint8Array { return Y.encodeStateAsUpdate(this.doc, remoteSV) }

  /** What a peer holding `remoteSV` lacks, or null when that is nothing (an empty update is two zero bytes). */
  diffFor(remoteSV: Uint8Array): Uint8Array | null { const u = this.encodeDiff(remoteSV); return u.length <= 2 ? null : u }

  /**
   * Git marks: hashes of texts some peer took in *from git*, kept in the document itself so they replicate
   * with the update that carries the content (a peer pulling the same commit later takes in nothing). Call
   * `markFromGit` inside the transaction that takes the content in. Hash prefixes keep the map small.
   */
  markFromGit(hash: string, by: string, at: number, credit?: Credit): void {
    this.doc.getMap(GIT_MARKS).set(hash.slice(0, 16), credit ? [by, at, credit] : [by, at])
  }

  gitMarked(hash: string): boolean { return this.doc.getMap(GIT_MARKS).has(hash.slice(0, 16)) }

  destroy(): void {
    this.doc.destroy()
  }
}


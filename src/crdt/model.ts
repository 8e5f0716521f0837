/**
 * FileModel: one tracked file as a Y.Doc, the main entry point the rest of ctxsync uses from `crdt/`. The
 * others are small and stateless: the rules (`rules.ts`), the parse check (`parse.ts`, `position.ts` for
 * messages), the state limits (`limits.ts`), conflict records for display (`present.ts`), checks of
 * foreign updates (`guard.ts`, `compact.ts`), git marks (`markFromGit`/`gitMarked` below) and the merges (`merge/`).
 *
 * Pure: it is given text and updates and returns text and updates; it never touches the disk or the
 * network. It remembers the *base* — the text it last gave to (or took from) the file, annotated with
 * node ids — so that a local edit is diffed against what the user actually had, not against a CRDT state
 * that peers may have moved since (see `diff.ts`).
 */
import * as Y from 'yjs'
import type { DocIR } from './ir.js'
import { slotsOf } from './ir.js'
import { parses, parseYaml, RefusedFileError, YamlSyntaxError } from './parse.js'
import { renderDocInfo, type Span } from './render.js'
import { incrementalParse, parsedSpans, type SpanOf } from './incremental.js'
import type { MapEntry, SeqItem } from './ir.js'
import { fallbackText } from './canonical.js'
import { annotate } from './annotate.js'
import { defaultRules, type Rules } from './rules.js'
import { AUTHORS, GIT_MARKS, ROOT, enrollClientId, nowSeconds } from './schema.js'
import { Tree } from './tree.js'
import { Writer } from './write.js'
import { Differ } from './diff.js'
import { conflictMaps, detectRaces } from './conflicts.js'
import { compactChanged } from './compact.js'
import { checkIR, MAX_WALK } from './limits.js'
import { describeConflicts, resolveConflict, type Conflict, type Take } from './present.js'

export { YamlSyntaxError, RefusedFileError }
export type { Conflict, Take }

export interface Author {
  id: string
  name: string
  kind: 'human' | 'agent'
}

/** Transaction origins, so observers can tell who changed the document. */
export const LOCAL = Symbol('ctxsync:local')
export const LOAD = Symbol('ctxsync:load')
export interface RemoteOrigin {
  remote: string
}

export interface Rendered {
  /** null when the file does not exist (deleted, or never had content). */
  text: string | null
  /** The parse of `text`, annotated with node ids: the base for the next local edit. */
  ir: DocIR | null
  /**
   * False while the document waits for updates it depends on (Yjs applies a deletion before an
   * out-of-order insert it supersedes arrives): the rendering is a transient state and must not be written.
   */
  complete: boolean
  /** `ir` is the parse of `text` (not just the IR it was rendered from, which repairs may differ from). */
  parsed?: boolean
  /** Where the block entries of `ir` sit in `text`, when it was rendered (a parse records them itself). */
  spans?: Map<MapEntry | SeqItem, Span>
}

export interface FileModelOptions {
  name: string
  author: Author
  rules?: Rules
  /** For reproducible tests only: a fixed Yjs client id and clock. */
  clientId?: number
  now?: () => number
}

/** A rendering whose whole text still has to be checked to parse (see `FileModel.renderDeferred`). */
export interface DeferredCheck {
  text: string
  complete: boolean
  /** Takes the check's verdict: the rendering, or the canonical fallback when `text` does not parse. */
  finish(ok: boolean): Rendered
}

export class FileModel {
  /**
   * How often a complete (writable) state needed the canonical fallback rendering: the repair rules in
   * `render.ts` should make this zero; the randomized harness reports it.
   */
  static fallbacks = 0
  /**
   * The same for incomplete states. While an update waits for one it depends on, Yjs has already applied
   * its deletions: a register being overwritten reads as absent (an empty value) until the new value
   * arrives, so such a state often does not parse. It is never written (`complete` is false) and says
   * nothing about the repair rules, hence its own counter.
   */
  static transientFallbacks = 0
  readonly doc = new Y.Doc()
  readonly tree: Tree
  readonly name: string
  private rules: Rules
  private author: Author
  /** `parsed`: `ir` is the parse of `text` (rather than the IR it was rendered from). */
  private base: { text: string; ir: DocIR; parsed: boolean; spanOf: SpanOf } | null = null
  /** The text last ingested, parsed and annotated with node ids (see `keepIngestedAsBase`). */
  #input: { text: string; ir: DocIR; parsed: boolean; spanOf: SpanOf } | undefined
  private validOnce = false
  private counter = 0
  private authored = false
  private races: Array<[string, unknown]> = []
  private now: () => number

  constructor(opts: FileModelOptions) {
    this.name = opts.name
    this.author = opts.author
    this.rules = opts.rules ?? defaultRules
    this.now = opts.now ?? nowSeconds
    if (opts.clientId !== undefined) this.doc.clientID = opts.clientId
    this.tree = new Tree(this.doc, this.rules)
    this.doc.on('afterTransaction', (tr: Y.Transaction) => {
      compactChanged(tr)
      if (tr.local || tr.origin === LOAD || tr.origin === LOCAL) return
      this.races.push(...detectRaces(this.tree, tr))
    })
  }

  /** The update that enrolls `text` as document `name`: identical bytes on every peer for equal input. */
  static enrollment(name: string, text: string, rules: Rules = defaultRules): Uint8Array {
    const ir = withinLimits(parseYaml(text))
    const doc = new Y.Doc()
    doc.clientID = enrollClientId(name, text)
    const tree = new Tree(doc, rules)
    doc.transact(() => new Differ(new Writer(tree, { time: 0, unique: null, rules })).applyDoc(null, ir))
    return Y.encodeStateAsUpdate(doc)
  }

  /**
   * Enrolls the file's first text (deterministic: see `enrollment`, which may be passed in when it was
   * computed already). Throws YamlSyntaxError or RefusedFileError like `ingest`. Returns the rendering,
   * which equals `text` for every file that parses.
   */
  enroll(text: string, enrollment: Uint8Array = FileModel.enrollment(this.name, text, this.rules)): Rendered {
    if (!this.isEmpty) throw new Error(`${this.name} is already enrolled`)
    Y.applyUpdate(this.doc, enrollment, LOCAL)
    // `text` parsed (the enrollment did): a rendering equal to it needs no second parse.
    const out = this.render(text)
    this.setBase(out)
    return out
  }

  get isEmpty(): boolean {
    return this.doc.store.clients.size === 0
  }

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

  private flushRaces(): void {
    if (this.races.length === 0) return
    const { records } = conflictMaps(this.doc)
    const pending = this.races
    this.races = []
    this.local(() => {
      for (const [k, rec] of pending) if (!records.has(k)) records.set(k, rec as never)
    })
  }

  /** Runs local writes in one transaction, registering this peer as the author of this session's client. */
  local(f: () => void): void {
    this.doc.transact(() => {
      if (!this.authored) {
        this.authored = true
        this.doc.getMap(AUTHORS).set(String(this.doc.clientID), [this.author.id, this.author.name, this.author.kind])
      }
      f()
    }, LOCAL)
  }

  private writer(): Writer {
    return new Writer(this.tree, {
      time: this.now(),
      unique: () => `${this.doc.clientID.toString(36)}.${(this.counter++).toString(36)}`,
      rules: this.rules,
    })
  }

  /**
   * Takes the file's new text. Throws YamlSyntaxError (the file is held) or RefusedFileError. Returns the
   * text the file should now hold (it differs from `text` when peers' changes were merged in meanwhile).
   */
  ingest(text: string): Rendered & { changed: boolean } {
    const base = this.base
    const spliced = base ? incrementalParse(base.text, base.ir, text, base.spanOf) : null
    const ir = withinLimits(spliced?.ir ?? parseYaml(text))
    // The base as parsed (a rendering may hold repaired text); its head and trail as the CRDT holds them.
    const baseIr = !base ? null : spliced || base.parsed ? base.ir : { ...annotate(parseYaml(base.text), base.ir, this.rules), head: base.ir.head, trail: base.ir.trail }
    const before = this.doc.store.clients.size ? Y.encodeStateVector(this.doc) : null
    this.local(() => new Differ(this.writer()).applyDoc(baseIr, ir))
    const after = Y.encodeStateVector(this.doc)
    const out = this.render(text)
    // The diff annotated `ir` with node ids: while the rendering cannot be written, the file stays the base
    // (a rendering becomes the base with spans of its own).
    this.#input = { text, ir, parsed: true, spanOf: spliced?.spanOf ?? parsedSpans }
    if (out.complete) this.setBase(out)
    else this.base = this.#input
    return { ...out, changed: !before || !equalBytes(before, after) }
  }

  /**
   * The rendering of the last `ingest` could not be written (the file changed again first): the file's
   * next text was made from the ingested text, so that text, not the rendering, is what to diff it with.
   */
  keepIngestedAsBase(): void {
    if (this.#input) this.base = this.#input
  }

  /** Marks the file deleted (a register write: a concurrent edit keeps it, with a conflict). */
  deleteFile(): void {
    if (!this.exists()) return
    this.local(() => this.writer().tombstone(ROOT))
    this.base = null
  }

  exists(): boolean {
    return this.tree.desc(ROOT) !== undefined && this.tree.alive(ROOT)
  }

  get complete(): boolean {
    return this.doc.store.pendingStructs === null && this.doc.store.pendingDs === null
  }

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
    const { text, fresh, spans } = renderDocInfo(source)
    const dirty = this.tree.takeDirty()
    const finish = (ok: boolean): Rendered => {
      if (ok) {
        this.validOnce = true
        return { text, ir: source, complete, parsed: text === expect, spans }
      }
      if (complete) FileModel.fallbacks++
      else FileModel.transientFallbacks++
      // The dirty set is spent and the broken text stays in the chunk cache: the next rendering cannot
      // know which entries to check, so it checks the whole text.
      this.validOnce = false
      const fb = fallbackText(source)
      return { text: fb, ir: annotate(parseYaml(fb), source, this.rules), complete, parsed: true }
    }
    const valid = text === expect || this.renderedValid(text, fresh, spans, dirty)
    return valid === 'whole' ? { text, complete, finish } : { rendered: finish(valid) }
  }

  /** The first rendering is checked whole; later ones entry by entry, for the entries that changed. */
  private renderedValid(text: string, fresh: Array<MapEntry | SeqItem>, spans: Map<MapEntry | SeqItem, Span>, dirty: Set<string>): boolean | 'whole' {
    if (!this.validOnce || dirty.has(ROOT)) return 'whole'
    const byId = new Map(fresh.filter((c) => c.id).map((c) => [c.id!, c]))
    const targets: Array<[number, number]> = []
    for (const id of dirty) {
      let span: [number, number] | undefined
      for (let cur: string | undefined = id, n = 0; cur && cur !== ROOT; cur = this.tree.placement(cur)?.[0]) {
        if (++n > MAX_WALK) return 'whole'
        // Inside a flow collection a slice that parses alone proves nothing: a block entry merged into
        // `[…]` reads fine on its own and breaks the flow around it.
        const kind = this.tree.kind(cur)
        if (cur !== id && (kind === 'fseq' || kind === 'fmap')) return 'whole'
        if (span) continue
        const c = byId.get(cur)
        const cs = c && spans.get(c)
        if (cs && (cs[0] === 0 || text.charCodeAt(cs[0] - 1) === 10)) span = cs
      }
      if (!span) {
        if (this.tree.has(id) && this.tree.alive(id)) return 'whole'
        continue
      }
      targets.push(span)
    }
    targets.sort((x, y) => x[0] - y[0] || y[1] - x[1])
    let reach = -1
    for (const [a, b] of targets) {
      if (b <= reach) continue
      reach = b
      if (!parses(text.slice(a, b))) return 'whole'
    }
    return true
  }

  /** Records what the file on disk now holds (after writing `r.text`, or after ingesting it). */
  setBase(r: Rendered): void {
    const spans = r.spans
    this.base = r.text !== null && r.ir ? { text: r.text, ir: r.ir, parsed: r.parsed ?? false, spanOf: spans ? (c) => spans.get(c as never) : parsedSpans } : null
  }

  get baseText(): string | null {
    return this.base?.text ?? null
  }

  /** Node ids of a rendering in document order (see `baseIds`). */
  idsOf(r: Rendered): string[] {
    return r.ir ? collectIds(r.ir) : []
  }

  /** Node ids of the base in document order, to rebuild the base from its text after a restart. */
  baseIds(): string[] {
    return this.base ? collectIds(this.base.ir) : []
  }

  restoreBase(text: string, ids: readonly string[]): boolean {
    let ir: DocIR
    try {
      ir = parseYaml(text)
    } catch {
      return false
    }
    const slots = slotsOf(ir)
    if (slots.length !== ids.length) return false
    slots.forEach((s, i) => (s.id = ids[i]))
    this.base = { text, ir, parsed: true, spanOf: parsedSpans }
    return true
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

  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc)
  }

  encodeDiff(remoteSV?: Uint8Array): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, remoteSV)
  }

  /** What a peer holding `remoteSV` lacks, or null when that is nothing (an empty update is two zero bytes). */
  diffFor(remoteSV: Uint8Array): Uint8Array | null {
    const u = this.encodeDiff(remoteSV)
    return u.length <= 2 ? null : u
  }

  /**
   * Git marks: hashes of texts some peer took in *from git*, kept in the document itself so they replicate
   * with the update that carries the content (a peer pulling the same commit later takes in nothing). Call
   * `markFromGit` inside the transaction that takes the content in. Hash prefixes keep the map small.
   */
  markFromGit(hash: string, by: string, at: number): void {
    this.doc.getMap(GIT_MARKS).set(hash.slice(0, 16), [by, at])
  }

  gitMarked(hash: string): boolean {
    return this.doc.getMap(GIT_MARKS).has(hash.slice(0, 16))
  }

  destroy(): void {
    this.doc.destroy()
  }
}

/** A file beyond the limits every peer checks (crdt/guard.ts) is refused here, not by its peers. */
function withinLimits(ir: DocIR): DocIR {
  const bad = checkIR(ir)
  if (bad) throw new RefusedFileError(bad)
  return ir
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function collectIds(ir: DocIR): string[] {
  return slotsOf(ir).map((s) => s.id ?? '')
}

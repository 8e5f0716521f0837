/**
 * Records versions from the live path without slowing it: at the end of each of a document's turns
 * (`DocWorker.run`) `afterTurn` compares the text the file now holds with the last one noted — a string
 * comparison, no hashing, no I/O — and queues a new version when it differs. The queue is written on a
 * later macrotask by one writer per space: delta, compress, append. Every THIN_EVERY appends to a log the
 * writer thins it by the policy (policy.ts), the only rewrite.
 *
 * Who made a version: the CRDT's authors map (`a`: client → peer) names the peers whose updates reached
 * the document since the last version; a local update names this peer. `restore` and `undo` leave an
 * intent (intent.ts) naming the text they write, so that version says what made it.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import * as Y from 'yjs'
import type { Doc, Transaction } from 'yjs'
import { STEPS_MAX } from '../gitsteps.js'
import { carriedIn, gitStepsIn, joinCarried, watchCredits, type Carried } from './credits.js'
import { watchWriters, writersIn } from './writers.js'
import { LOAD, type Author, type RemoteOrigin } from '../../crdt/modeltypes.js'
import { AUTHORS, type RevertMark } from '../../crdt/schema.js'
import { logger } from '../../debuglog.js'
import { historyNow } from './clock.js'
import { DEFAULT_POLICY, fitBudget, readPolicy, thin, type Policy } from './policy.js'
import { changeId, decode, Encoder, frame, logFile, readLog, textHash, type By, type Via } from './store.js'
import { rewrite } from './compact.js'
import { intentFor, takeIntent } from './intent.js'
import { checkMassDeletion, dropMassDeletion, massDeletionLine, noteMassDeletion, type GuardNote } from './guard.js'

const log = logger('space:versions')
const THIN_EVERY = 256

export interface BookOptions {
  dir: string
  config: string
  author: Author
  say: (m: string) => void
  /** Where mass deletions are noted for `status` (guard.ts). */
  guardFile: string
}

interface Queued { doc: string; text: string | null; t: number; by: By[]; via: Via; at?: number; kept?: By; ofHash?: string }

/** What a document's side reads of its model: the CRDT, and the text it renders (a pull's step, below). */
export interface StepModel { doc: Doc; render(): { text: string | null } }
/** The texts between a pull's commits received at once (crdt/stepstates.ts), bound to the document. */
export type StepTexts = (tr: Transaction, client: number, marks: readonly number[]) => Array<string | null>

interface LogState { enc: Encoder; lastHash: string | null; appends: number }

/** The space's version book, or null when this process may not write (a read-only open). */
export function newBook(p: { state: string; config: string }, author: Author, writable: boolean, say: (m: string) => void): VersionBook | null {
  if (!writable) return null
  const dir = versionsDir(p.state)
  return new VersionBook({ dir, config: p.config, author, say, guardFile: path.join(dir, 'guard.json') })
}

export const versionsDir = (state: string): string => path.join(state, 'versions')
/** Was this text (hash) of `doc` written on purpose by `restore` or `undo` (its intent is waiting)? Which, for peers. */
export async function intended(state: string, doc: string, hash: string): Promise<RevertMark | null> {
  const i = await intentFor(versionsDir(state), doc, hash)
  if (!i) return null
  return i.via === 'undo' ? { via: 'undo', ...(i.ofHash ? { ofHash: i.ofHash.slice(0, 16) } : {}) } : { via: 'restore' }
}

/** One space's version store, as the live path sees it. */
export class VersionBook {
  #queue: Queued[] = []
  #timer: NodeJS.Immediate | null = null
  #writing: Promise<void> = Promise.resolve()
  #logs = new Map<string, LogState>()
  #policy: Promise<Policy> | null = null
  #dirMade = false
  #prev = new Map<string, string | null>()
  /** The last mass deletion of each document noted for `status`, and the text before it. */
  #guarded = new Map<string, { id: string; before: string }>()
  #guardIO: Promise<void> = Promise.resolve()

  constructor(readonly o: BookOptions) {}

  #docs = new Map<string, DocVersions>()

  forDoc(name: string, model: StepModel, steps?: StepTexts): DocVersions {
    const d = new DocVersions(this, name, model, steps)
    this.#docs.set(name, d)
    return d
  }

  /** Who made the changes a write-back is showing, for the daemon's log (`updated X (by ada)`). */
  who(name: string): string {
    const me = this.o.author.id
    const d = this.#docs.get(name)
    // A resolution chosen here is said as this machine's act, naming the kept value's writer once. Its writer
    // was also named as a pending author, or not, by timing: their losing value had left the file as it was,
    // so no version had yet taken it off the pending authors (first-day e2e, bob's log).
    const chose = d?.resolvedHere(me) ?? null
    // Others only: this machine's own edit merged into the write named its own person too ("updated
    // todos.yaml (by ann, bob)" in ann's log, for bob's change: first-day session, issue 17).
    const by = [...(d?.carriedBy() ?? []), ...(d?.pendingAuthors() ?? [])].filter((b, i, all) => b[0] !== me && b[0] !== chose?.[0] && all.findIndex((x) => x[0] === b[0]) === i)
    const said = [
      ...(by.length ? [`by ${by.map((b) => b[1] + (b[2] === 'agent' ? ' [agent]' : '')).join(', ')}`] : []),
      ...(chose ? [`resolved here: kept ${chose[0] === me ? 'your' : `${chose[1]}'s`} value`] : []),
    ]
    return said.length ? ` (${said.join('; ')})` : ''
  }

  push(q: Queued): void {
    this.#queue.push(q)
    this.#timer ??= setImmediate(() => {
      this.#timer = null
      const batch = this.#queue
      this.#queue = []
      this.#writing = this.#writing.then(() => this.write(batch)).catch((e: Error) => this.o.say(`history: ${e.message}`))
    })
  }

  /** Resolves once every version queued so far is on disk. */
  async flushed(): Promise<void> {
    if (this.#timer) {
      clearImmediate(this.#timer)
      this.#timer = null
      const batch = this.#queue
      this.#queue = []
      this.#writing = this.#writing.then(() => this.write(batch)).catch((e: Error) => this.o.say(`history: ${e.message}`))
    }
    await this.#writing
    await this.#guardIO
  }

  private async state(doc: string): Promise<LogState> {
    let s = this.#logs.get(doc)
    if (s) return s
    const buf = await readLog(this.o.dir, doc)
    const d = buf ? decode(doc, buf) : null
    const last = d?.versions.at(-1) ?? null
    s = { enc: new Encoder(last?.text ?? null, d?.sinceKeyframe), lastHash: last ? last.h : null, appends: 0 }
    this.#prev.set(doc, last?.text ?? null)
    this.#logs.set(doc, s)
    return s
  }

  private async write(batch: Queued[]): Promise<void> {
    if (!this.#dirMade) {
      await fs.mkdir(this.o.dir, { recursive: true, mode: 0o700 })
      this.#dirMade = true
    }
    const byDoc = new Map<string, string[]>()
    for (const q of batch) {
      const s = await this.state(q.doc)
      const h = textHash(q.text)
      if (h === s.lastHash) continue
      const via: Via = s.lastHash === null ? 'start' : q.via
      const intent = via === 'local' || via === 'undo' || via === 'restore' ? await takeIntent(this.o.dir, q.doc, h) : null
      // A peer's undo names the change it undid by its text: this peer's version of that text, if it keeps one.
      const of = intent?.of ?? (via === 'undo' && q.ofHash ? await this.versionOf(q.doc, q.ofHash) : undefined)
      const v = { id: changeId(q.doc, q.t, h), t: q.t, by: q.by, via: intent?.via ?? via, ...(of ? { of } : {}), ...(q.at && via === q.via ? { at: q.at, ...(q.kept ? { kept: q.kept } : {}) } : {}) }
      ;(byDoc.get(q.doc) ?? byDoc.set(q.doc, []).get(q.doc)!).push(s.enc.record({ ...v, text: q.text }))
      const before = this.#prev.get(q.doc) ?? null
      // Guarded on the receiving peer too: a peer's truncation arrives in seconds, and `undo` here brings it
      // back everywhere (the receiving side was told nothing: issue 16 tester). An undo or restore that
      // empties a file is guarded like a save (an undo of the undo that had brought entries back).
      const fromPeers = q.by.some((b) => b[0] !== this.o.author.id) ? q.by : null
      if ((v.via === 'local' || v.via === 'remote' || v.via === 'undo' || v.via === 'restore') && before !== null) this.guard(q.doc, before, q.text, v.id, v.t, fromPeers)
      this.unguard(q.doc, v.id, q.text)
      this.#prev.set(q.doc, q.text)
      s.lastHash = h
      s.appends++
    }
    for (const [doc, lines] of byDoc) {
      await fs.appendFile(logFile(this.o.dir, doc), frame(lines))
      const s = this.#logs.get(doc)!
      if (s.appends >= THIN_EVERY) {
        s.appends = 0
        await this.thinLog(doc)
      }
    }
  }

  /** The id of the newest version of `doc` whose text hash starts with `hash` (read from disk: undos are rare). */
  private async versionOf(doc: string, hash: string): Promise<string | undefined> {
    const buf = await readLog(this.o.dir, doc).catch(() => null)
    return buf ? decode(doc, buf).versions.findLast((x) => x.h.startsWith(hash))?.id : undefined
  }

  /** `by`: the peers whose change it was, when it came from them (null: a save on this machine). */
  private guard(doc: string, before: string, after: string | null, id: string, t: number, by: By[] | null): void {
    const found = checkMassDeletion(doc, before, after, id, t)
    if (!found) return
    const names = by?.filter((b) => b[0] !== this.o.author.id).map((b) => b[1] + (b[2] === 'agent' ? ' (agent)' : ''))
    const note: GuardNote = names ? { ...found, by: names.length ? names : ['a peer'] } : found
    this.o.say(massDeletionLine(note))
    this.#guarded.set(doc, { id, before })
    this.#guardIO = this.#guardIO.then(() => noteMassDeletion(this.o.guardFile, note)).catch(() => undefined)
  }

  /**
   * The entries of a mass deletion are back (an undo here, or a peer's undo or restore arriving): `status`
   * stops advising the undo — followed then, a second three-way revert doubles every item.
   */
  private unguard(doc: string, id: string, text: string | null): void {
    const g = this.#guarded.get(doc)
    if (!g || g.id === id || checkMassDeletion(doc, g.before, text, id, 0)) return
    this.#guarded.delete(doc)
    this.#guardIO = this.#guardIO.then(() => dropMassDeletion(this.o.guardFile, g.id)).catch(() => undefined)
  }

  /** Applies the policy to one log (rewritten whole, atomically); the next append starts with a whole text. */
  async thinLog(doc: string, now = historyNow()): Promise<void> {
    const policy = await (this.#policy ??= readPolicy(this.o.config, (m) => this.o.say(m)).catch(() => DEFAULT_POLICY))
    const buf = await readLog(this.o.dir, doc)
    if (!buf) return
    const old = decode(doc, buf)
    const all = old.versions
    let kept = thin(all, now, policy)
    const estimate = Math.round((buf.length * kept.length) / Math.max(1, all.length))
    kept = fitBudget(kept, estimate, policy.maxBytes)
    // Rewritten even when nothing is dropped: the appended one-record frames repack into large ones.
    const c = await rewrite(this.o.dir, doc, kept, { ...old, buf })
    const last = kept.at(-1)
    this.#logs.set(doc, { enc: new Encoder(last?.text ?? null), lastHash: last?.h ?? null, appends: 0 })
    log('%s: kept %d of %d versions (%d bytes, %d of %d frames copied)', doc, kept.length, all.length, c.bytes, c.reused, c.frames)
  }
}

/** One document's side: which peers changed it since its last version, and the turn-end check. */
export class DocVersions {
  /** Peers' clients whose writes reached the document since its last version, and the clock each reached. */
  #clients = new Map<number, number>()
  #local = false
  /** A change this document took in that a peer only carried (credits.ts): its writer is the author. */
  #carried: Carried | null = null
  /** The text once the pending commit's change was taken in (`#carried`, a git step), while another may follow. */
  #stepText: string | null | undefined = undefined
  #last: string | null | undefined = undefined
  /** The writers of the git steps made versions since the last turn end's (the write shows theirs too). */
  #stepsBy: By[] = []
  /** The text of the last version made here (at a turn's end, or a git step's). */
  #recorded: string | null | undefined = undefined
  private readonly doc: Doc

  /** The commits of a pull this transaction brought at once, but the last, with the text after each. */
  #caughtUp: { before: Array<{ carried: Carried; text: string | null }>; last: Carried } | null = null

  constructor(
    private readonly book: VersionBook,
    readonly name: string,
    private readonly model: StepModel,
    steps?: StepTexts,
  ) {
    const doc = (this.doc = model.doc)
    // A peer catching up on a pull gets its commits in one transaction: a version of all of them named every
    // writer beside every field (issue 16). The texts between them are read now, before Yjs collects the
    // values the later commits overwrote (stepstates.ts); the update event below records them.
    if (steps) doc.on('afterTransaction', (tr: Transaction) => {
      const g = tr.origin !== null && typeof tr.origin === 'object' && 'remote' in tr.origin ? gitStepsIn(doc, tr) : null
      // A text per mark: a peer sending thousands of marks at once would have the document rendered as
      // often. A pull is taken in as at most STEPS_MAX commits (gitsteps.ts); more are one change, as before.
      if (!g || g.steps.length > STEPS_MAX) return
      try {
        const texts = steps(tr, g.client, g.steps.map((s) => s.clock))
        this.#caughtUp = { before: texts.map((text, i) => ({ carried: g.steps[i]!.carried, text })), last: g.steps.at(-1)!.carried }
      } catch (e) {
        log('%s: no texts between the commits of a pull: %s', this.name, (e as Error).message)
      }
    })
    // The maps credits are written in, defined now: a remote update would otherwise create them as plain
    // types, and `tr.changed` name those, not the maps `carriedIn` looks up (a peer's credit went unread).
    watchCredits(doc)
    watchWriters(doc)
    doc.on('update', (_u: Uint8Array, origin: unknown, _d: Doc, tr: Transaction) => {
      if (origin === LOAD) return
      let carried = carriedIn(doc, tr)
      const caught = this.#caughtUp
      this.#caughtUp = null
      if (caught && carried?.via === 'git') {
        this.#recordStep()
        for (const s of caught.before) {
          this.#carried = s.carried
          this.#stepsBy.push(s.carried.by)
          this.#record(s.text)
        }
        // The last commit's credit, for the text the transaction ends with (recorded at the turn's end).
        carried = caught.last
      }
      // A pull's commits come in one turn, one transaction each (gitsteps.ts), and the file is written once:
      // made one version, every field it changed was blamed on every commit's author (issue 16). Each
      // commit is a version of its own, the text as it stood once that commit was in.
      if (carried?.via === 'git') this.#recordStep()
      if (carried) this.#carried = joinCarried(this.#carried, carried)
      this.#stepText = carried?.via === 'git' ? this.#render() : undefined
      // The writers of what changed, not every client of the update (writers.ts): a peer that only passed a
      // change on, or recorded a race it received, is no author of it.
      const w = writersIn(doc, tr)
      const remote = typeof origin === 'object' && origin !== null && 'remote' in (origin as RemoteOrigin)
      for (const client of w.own) {
        if (client === carried?.client) continue
        if (remote) this.#clients.set(client, Y.getState(doc.store, client))
        else this.#local = true
      }
      for (const client of w.copied) this.#clients.set(client, Y.getState(doc.store, client))
      if (!remote && !carried && w.removed) this.#local = true
    })
  }

  /**
   * End of a turn. The text the file holds is the model's base once the disk is known (a held file keeps
   * its last good text: a version is never a text that does not parse). Cheap unless it changed.
   */
  afterTurn(file: { disk: { kind: string }; model: { baseText: string | null; baseHolds?(sv: ReadonlyMap<number, number>): boolean } }): void {
    const text = file.disk.kind === 'absent' ? null : file.disk.kind === 'file' ? file.model.baseText : undefined
    if (text === undefined || text === this.#last) {
      // Peers' writes the file's text was rendered with, and that left it as it was (a race they lost, a value
      // written alike): no change of theirs to name. Kept pending, they were named authors of this machine's
      // next save (black-box tester: "a change by tom emptied the file", bob's own truncation).
      if (text !== undefined && this.#clients.size && file.model.baseHolds?.(this.#clients)) this.#clients.clear()
      if (text !== undefined) this.#local = false // own writes that left the text as it was: no edit (stop 32, finding 8c)
      // A carried change (a commit's values, a resolution) that lost a race here likewise: kept, its writer
      // was named beside this machine's next save — ann's `git checkout -- FILE` credited to "gus, ann" for
      // gus's pulled value that had lost to cat's (black-box tester, stop 29).
      const c = this.#carried
      if (text !== undefined && c && file.model.baseHolds?.(new Map([[c.client, Y.getState(this.doc.store, c.client)]]))) {
        this.#carried = null
        this.#stepText = undefined
      }
      return
    }
    this.#last = text
    this.#stepsBy = []
    // A step's text, a version already, written back once the next step had come in (a peer gets the steps
    // as separate updates): what is pending is the next step's, for the version of its own text.
    if (text === this.#recorded) return
    this.#record(text)
  }

  /** The pending git step (its credit and the text once it was in), a version of its own before the next comes. */
  #recordStep(): void {
    if (this.#carried?.via !== 'git' || this.#stepText === undefined) return
    this.#stepsBy.push(this.#carried.by, ...(this.#carried.more ?? []))
    this.#record(this.#stepText)
  }

  /** The text now, or undefined (no step version then) should rendering fail: never thrown into Yjs's update event. */
  #render(): string | null | undefined {
    try {
      return this.model.render().text
    } catch (e) {
      log('%s: no text for a git step: %s', this.name, (e as Error).message)
      return undefined
    }
  }

  /** A version of `text` made by what is pending (credit, peers, this machine), which it then clears. */
  #record(text: string | null): void {
    const c = this.#carried
    const others = this.pendingAuthors()
    const credited = c ? [c.by, ...(c.more ?? [])] : []
    // The resolver's own writes in the turn of a resolution are its bookkeeping (an adopted merge record's
    // copies dropped with it): taken for an edit, a kept value from git was blamed on the resolver (tester).
    const rest = others.filter((b) => !credited.some((x) => x[0] === b[0]) && !(c?.via === 'resolve' && c.kept?.[0] === b[0]))
    const by = [...credited, ...rest]
    // Pending authors the credit names already (a resolved value's writer, whose losing value had left the
    // text as it was) make it no less the carried change: it was 'remote' or 'resolve' by timing.
    const via: Via = c && rest.length === 0 ? c.via : this.#local ? 'local' : this.#clients.size ? 'remote' : 'settled'
    this.#clients.clear()
    this.#local = false
    this.#carried = null
    this.#stepText = undefined
    this.#recorded = text
    this.book.push({ doc: this.name, text, t: historyNow(), by, via, ...(c && via === c.via ? { at: c.at, ...(c.kept ? { kept: c.kept } : {}), ...(c.ofHash ? { ofHash: c.ofHash } : {}) } : {}) })
  }

  /**
   * For the daemon's log, who made the carried change written now (credits.ts): a commit's writer; for a
   * resolution the peer that chose, which is what the line reports (the value's writer is in blame).
   */
  carriedBy(): By[] {
    const c = this.#carried
    return [...this.#stepsBy, ...(!c ? [] : c.via === 'resolve' ? (c.kept ? [c.kept] : []) : [c.by, ...(c.more ?? [])])]
  }

  /** The kept value's writer, when the change written now is a resolution chosen by `me`. */
  resolvedHere(me: string): By | null {
    const c = this.#carried
    return c?.via === 'resolve' && c.kept?.[0] === me ? c.by : null
  }

  /** The peers whose changes reached the document since its last version (this one for a local edit). */
  pendingAuthors(): By[] {
    const me = this.book.o.author
    const authors = this.doc.getMap<[string, string, 'human' | 'agent']>(AUTHORS)
    const by: By[] = []
    const add = (b: By) => void (by.some((x) => x[0] === b[0]) || by.push(b))
    if (this.#local) add([me.id, me.name, me.kind])
    for (const c of this.#clients.keys()) {
      const a = authors.get(String(c))
      if (a && a[0] !== me.id) add([a[0], a[1], a[2]])
    }
    return by
  }
}

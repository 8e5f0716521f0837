/**
 * Space: the one orchestrator of a space on this machine — configuration, identity, the CRDT model of every
 * tracked file, their sidecars, and the reconciliation between models and files (`reconcile.ts`, run
 * by one worker per document, `worker.ts`). Commands, the daemon and the network host all go through it; nothing else writes a tracked file or a sidecar.
 *
 * A process that changes anything holds the space lock for as long as it has the space open, so two
 * processes never write the same sidecar or file; `ctxsync sync`/`resolve` talk to a running daemon
 * instead of opening the space themselves (see `daemon.ts`).
 */
import path from 'node:path'
import type { Author } from '../crdt/model.js'
import { compileRules } from '../crdt/rules.js'
import { TakeError, type Conflict, type Take } from '../crdt/present.js'
import { CtxError } from '../errors.js'
import { ProtocolError } from '../net/protocol.js'
import { parseStateVector } from '../net/statevector.js'
import { createMatcher, listTracked, normalizeDocPath, type Matcher } from '../fs/globs.js'
import { readTextFile, sweepStaleTemps } from '../fs/atomic.js'
import { SidecarCorruptError, type DocStore } from '../fs/StorageAdapterInterface.js'
import type { ReleaseLock } from '../fs/lock.js'
import { asDocName, type DocName, type PeerId, type SpaceId } from '../ids.js'
import { logger } from '../debuglog.js'
import { TypedEmitter } from '../net/emitter.js'
import { keepsFormat, type LocalSettings, type TeamConfig } from './config.js'
import type { BranchContext, DocView, GitContext, Notify, SpaceEvents } from './context.js'
import type { UpdateListener } from './doclog.js'
import { markDamaged, markUnreadable, takeInSave, writeBack } from './reconcile.js'
import { writeTime } from './saverace.js'
import { DocWorker, untilIdle } from './worker.js'
import { checkState, checkUpdate, RefusedUpdateError } from '../crdt/guard.js'
import { Repo } from '../git/repo.js'
import { branchSpaceId, mergeBranchStates } from './branches.js'
import { GitHold } from './githold.js'
import { gitAtWork, reconcileAfterGit, takeInAll, takeInUnderStash, type GitReport } from './gitingest.js'
import { noteHead, sinceLastRun } from './lasthead.js'
import type { SpacePaths } from './paths.js'
import type { Identity } from './secrets.js'
import { readSummary } from './summary.js'
import { awaitingJoin, joinWrittenBack } from './join.js'
import type { ParseChecker } from './parsecheck.js'
import { assemble, type OpenOptions } from './open.js'
import { IoRetry } from './ioretry.js'
import { intended, newBook, type VersionBook } from './versions/recorder.js'

export type { SpaceEvents, DocView } from './context.js'
export type { OpenOptions, SpaceParts } from './open.js'
export type { FileProblem, FileState } from './trackedfile.js'

const log = logger('space')

export interface ScanReport { enrolled: string[]; ingested: string[]; written: string[]; deleted: string[] }

export class Space extends TypedEmitter<SpaceEvents> {
  readonly #workers = new Map<DocName, DocWorker>()
  readonly match: Matcher
  readonly author: Author
  private updateListeners = new Set<UpdateListener>()
  private closed = false
  /** While git rewrites files, nothing is taken in or written (see `pauseForGit`). */
  #gitPaused = false
  /** The repository, and what every tracked-file write asks: nothing lands while git rewrites files (githold.ts). */
  readonly gitHold = new GitHold(() => Repo.open(this.root), { paused: () => this.#gitPaused, closed: () => this.closed, writeAgain: (n) => void this.scheduleWriteBack(n) })
  /** What the helpers (reconcile, git, branches) may use of the space: see context.ts. */
  readonly #cx: GitContext & BranchContext
  versions: VersionBook | null = null

  private constructor(
    readonly paths: SpacePaths,
    readonly config: TeamConfig,
    readonly local: LocalSettings,
    readonly identity: Identity,
    readonly secret: string | null,
    /** A relay token (CTXSYNC_TOKEN): lets this machine sync with a relay without the secret. */
    readonly token: string | null,
    readonly store: DocStore,
    private readonly release: ReleaseLock | null,
    readonly warn: (message: string) => void,
    /** The git branch whose state this is (`branches: separate`); null when branches share one space. */
    readonly branch: string | null,
    /** Checks that first renderings parse, large ones off the main thread (see parsecheck.ts). */
    readonly parseCheck: ParseChecker,
    readonly now: (() => number) | undefined,
  ) {
    super()
    this.match = createMatcher(config.track)
    this.author = { id: identity.id, name: local.name, kind: local.agent ? 'agent' : 'human' }
    this.#cx = this.context()
  }

  static open(o: OpenOptions): Promise<Space> {
    return assemble(o, async (a) => {
      const space = new Space(a.paths, a.config, a.local, a.identity, a.secret, a.token, a.store, a.release, a.warn, a.branch, a.parseCheck, a.now)
      await space.load()
      return space
    })
  }

  private context(): GitContext & BranchContext {
    const notify: Notify = (event, ...args) => this.emit(event, ...args)
    const { paths, parseCheck, author, match, branch } = this
    return {
      root: paths.root, paths, parseCheck, author, match, branch, notify, peerId: this.identity.id, track: this.config.track,
      warn: (m) => this.warn(m), rulesFor: (name) => compileRules(name, this.config.rules),
      keepFormat: (name) => (keepsFormat(this.config.keepFormat, this.author) ? compileRules(name, this.config.rules) : null),
      gitRepo: () => this.gitRepo(), gitPaused: () => this.#gitPaused, gitHold: (n) => this.gitHold.hold(n), docNames: () => this.#workers.keys(),
      turn: (name, f) => ((w) => w.run(() => f(w)))(this.getOrCreate(name)),
      acceptName: (n) => this.acceptName(n), applyRemote: (doc, u, from) => this.applyRemote(doc, u, from),
      stateVectorOf: (doc) => this.getOrCreate(doc).model.stateVector(), deliberate: (n, h) => intended(paths.state, n, h),
      mergeSeen: (doc, seen) => ((w) => void w.persist(w.file.mergeSeen(seen)))(this.getOrCreate(doc)),
    }
  }

  /** Every document the space knows (tracked files, and ones peers sent). */
  docs(): IterableIterator<DocView> {
    return this.#workers.values()
  }

  /** The document of that name, if the space knows it (never creates one). */
  doc(name: DocName): DocView | undefined {
    return this.#workers.get(name)
  }

  /** Documents with local changes no peer is known to hold, sorted. */
  pendingDocs(): DocName[] {
    return [...this.#workers.values()].filter((e) => e.pending).map((e) => e.name).sort()
  }

  get root(): string { return this.paths.root }

  get writable(): boolean { return this.release !== null }

  /** The id peers must share to sync: the space's, or its branch's under `branches: separate`. */
  get syncId(): SpaceId { return this.branch === null ? this.config.space : branchSpaceId(this.config.space, this.branch) }

  /** The git repository around the space (null without one), looked up once. */
  gitRepo(): Promise<Repo | null> {
    return this.gitHold.repo()
  }

  /**
   * Git is rewriting files (GitWatch saw its lock files): what it writes is not an edit, so nothing is
   * taken in and no file is written until `resumeAfterGit`; remote changes wait in the CRDT meanwhile.
   */
  pauseForGit(): void { this.#gitPaused = true }

  /**
   * After git rewrote files: merges the states of branches the operation merged in (separate branches),
   * then takes in what git did (`gitingest.ts`) and writes what waited meanwhile.
   */
  async resumeAfterGit(before: string | null = null, intent?: Parameters<typeof reconcileAfterGit>[1]): Promise<GitReport & { branches: string[] }> {
    this.#gitPaused = false
    const repo = await this.gitRepo()
    const branches = repo && this.branch !== null ? await mergeBranchStates(this.#cx, repo, before) : []
    const report = await reconcileAfterGit(this.#cx, intent)
    // What git wrote is taken in: a start after a stop knows where git was (lasthead.ts).
    if (repo && !this.#gitPaused) await noteHead(this.paths.state, await repo.head())
    return { ...report, branches }
  }

  /** A person's save of a file `git stash` holds: taken in, the file left as it is (`takeInUnderStash`). */
  takeInUnderStash(name: DocName, head: string, first: boolean): Promise<string | null> { return takeInUnderStash(this.#cx, name, head, first) }
  /** Something status shows changed outside the space (who is online). */
  summaryChanged(): void { this.emit('summary') }

  /** Validates a document name from the wire or the disk: a tracked, normalised, relative path. */
  acceptName(name: string): DocName | null {
    try {
      return normalizeDocPath(this.root, name, this.match)
    } catch {
      return null
    }
  }

  /** The document's worker, created (empty) the first time a name is used. */
  private getOrCreate(name: DocName): DocWorker {
    let w = this.#workers.get(name)
    if (!w) {
      w = new DocWorker(name, {
        author: this.author, rules: compileRules(name, this.config.rules), store: this.store, now: this.now,
        versions: (this.versions ??= newBook(this.paths, this.author, this.writable, (m) => this.warn(m))),
        announce: (d, u, o) => this.announce(d, u, o),
        onStoreError: (err) => this.io.storeFailed(err),
        // Saved again after the store failed: what waited is written to the file now, as it would have been.
        onStoreRecovered: () => {
          this.emit('summary')
          void this.scheduleWriteBack(name)
        },
      })
      this.#workers.set(name, w)
    }
    return w
  }

  private announce(doc: DocName, update: Uint8Array, origin: PeerId | null): void {
    for (const l of this.updateListeners) l(doc, update, origin)
    this.emit('changed', doc)
  }

  onUpdate(listener: UpdateListener): () => void {
    this.updateListeners.add(listener)
    return () => this.updateListeners.delete(listener)
  }

  private async load(): Promise<void> {
    const stored = await this.store.list()
    // A file that was synced before (it is in the last summary) but has no sidecar any more lost its state.
    const have = new Set<string>(stored)
    for (const f of (await readSummary(this.paths.summary))?.files ?? []) {
      if (f.baseHash && !have.has(f.path)) this.warn(`${f.path}: its sync state (sidecar) is missing; rebuilding it from the file (peers will send back what they have)`)
    }
    for (const name of stored) {
      if (!this.acceptName(name)) {
        log('ignoring sidecar of %s: no longer tracked', name)
        continue
      }
      const w = this.getOrCreate(name)
      try {
        const loaded = await this.store.load(name)
        if (!loaded) continue
        for (const m of loaded.warnings) this.warn(`${name}: ${m}`)
        w.model.load(loaded.updates)
        w.file.restore(loaded.meta)
        // A state stored before the limits existed (crdt/guard.ts): held, the rest of the space syncs.
        const bad = checkState(w.model.doc)
        if (bad) markDamaged(this.#cx, w.file, bad.reason)
      } catch (err) {
        if (!(err instanceof SidecarCorruptError)) throw err
        this.warn(`${err.message}; rebuilding it from ${name} (peers will send back what they have)`)
        if (this.writable) await this.store.remove(name)
        this.#workers.delete(name)
        this.getOrCreate(name)
      }
    }
  }

  /** Brings every tracked file and its model in step (startup, `sync`, after git rewrote files). */
  async scan(): Promise<ScanReport> {
    const report: ScanReport = { enrolled: [], ingested: [], written: [], deleted: [] }
    const listing = await listTracked(this.root, this.config.track)
    for (const s of listing.symlinks) this.warn(`${s}: is a symbolic link; ctxsync does not follow or sync links`)
    for (const d of listing.linkedDirs) this.warn(`${d}/: is a symbolic link; ctxsync does not follow links, so files under it are not synced`)
    // Content git brought while no daemon ran is taken in as after a live git command (lasthead.ts).
    const repo = this.writable && !this.#gitPaused ? await this.gitRepo() : null
    const intent = await sinceLastRun(repo, this.paths.state)
    const names = await takeInAll(this.#cx, listing.files, { concurrency: 8, guarded: true, intent }, (name, what) => {
      if (what === 'kept') report.written.push(name)
      else if (what === 'from-git' || what === 'revived' || what === 'reverted') report.ingested.push(name)
      else if (what) report[what].push(name)
    })
    if (repo && !this.#gitPaused) await noteHead(this.paths.state, await repo.head())
    // Temp files that killed writes left beside tracked files and in the state directory (`sweepStaleTemps`).
    const swept = this.writable ? await sweepStaleTemps(names.map((n) => path.join(this.root, n)), [this.paths.state]) : 0
    if (swept) log('removed %d temp file(s) that interrupted writes left behind', swept)
    this.emit('summary')
    return report
  }

  async onLocalFile(name: DocName, text: string, hash: string, mtimeMs?: number): Promise<void> {
    // What git writes is not an edit: `resumeAfterGit` decides, and the watcher re-checks every file after it.
    if (this.#gitPaused) return
    const w = this.getOrCreate(name)
    await w.run(async () => {
      if (this.#gitPaused || (await gitAtWork(this.#cx))) return log('%s: not taken in now, git at work', name) // git started or holds its lock (gitAtWork): the file may be git's
      const f = w.file
      if (f.disk.kind !== 'unknown' && !f.diskIs(hash)) {
        // The watcher reports what the file held when it looked. Our own later write (a burst of remote
        // changes) may have replaced that since: an event older than the file is not an edit, and taking it
        // in would re-author peers' values as ours. Only what the file holds now counts.
        const now = await readTextFile(path.join(this.root, name), { within: this.root })
        if (now.kind !== 'text' || f.diskIs(now.hash)) return
        ;({ text, hash, mtimeMs } = now)
      }
      await takeInSave(this.#cx, w, text, hash, true, mtimeMs === undefined ? undefined : writeTime(f, mtimeMs))
    })
    this.emit('summary')
  }

  /**
   * The watcher found a tracked file it cannot sync as it is (binary, not UTF-8, too large, a link): it is
   * held — shown in status with the reason, never sent, never overwritten — until it is readable again.
   */
  async onLocalUnreadable(name: DocName, reason: string): Promise<void> {
    if (this.#gitPaused) return
    const w = this.getOrCreate(name)
    await w.run(async () => markUnreadable(this.#cx, w.file, reason))
    this.emit('summary')
  }

  async onLocalDelete(name: DocName): Promise<void> {
    if (this.#gitPaused) return
    const w = this.getOrCreate(name)
    const gone = await w.run(async () => {
      // What the file held (its base hash, maybe still waiting for its lazy write) must be on disk before the deletion is: should we die in between, a restart that finds no base would write the file back.
      if (w.file.dirty) await w.persist('now')
      return w.file.model.exists() && (w.file.deletedOnDisk(), !w.file.model.exists())
    })
    if (gone) this.emit('deleted-here', name) // said in the log; the git watch unstages what it staged for it
    this.emit('summary')
  }

  /** Applies a peer's update; resolves once durable. The file is rewritten shortly after (a write-back turn). */
  async applyRemote(name: DocName, update: Uint8Array, from: PeerId): Promise<void> {
    const w = this.getOrCreate(name)
    // Held for good (see markDamaged): what peers send for it is not applied, and it stays out of sync.
    if (w.damaged !== null) return
    // Checked before anything is applied or stored: see crdt/guard.ts.
    const refused = checkUpdate(w.model.doc, update)
    if (refused?.kind === 'malformed') throw new CtxError('bad-update', `malformed update for ${name}`)
    if (refused) {
      this.warn(`${name}: refused an update from peer ${from}: ${refused.reason}`)
      throw new RefusedUpdateError(refused.kind, `${name}: ${refused.reason}`)
    }
    // From here until the file is rewritten the model is ahead of the file. Should we die in between and the
    // user edit the file before the next start, that edit must be diffed against what the file held — not
    // against nothing, which would undo every change the file has not shown yet and re-author the rest. So
    // the file's text goes into meta first (same queue as the update: it lands on disk before it).
    void w.persist(w.file.keepBaseBeforeRemote())
    w.model.applyRemote(update, from)
    await w.log.flushed()
    // Not durable: neither acknowledged (the sender keeps it and offers it again) nor written to the file
    // (a crash would leave the file ahead of the sidecar) until the store takes it.
    // 1011: the fault is ours, the sender is right to retry (with backoff) — not a protocol error of its.
    if (w.storeError) throw new ProtocolError(`this peer cannot save ${name} now (${w.storeError}); try again later`, 1011)
    const back = this.scheduleWriteBack(name)
    // A joining file takes the member's changes in at this write-back: awaited (a while at most), so that what
    // it sends goes out before this session says Synced and a peer's one-shot `sync` gets it.
    if (awaitingJoin(w.file)) await joinWrittenBack(back)
  }

  /** A peer holds `sv` of `doc`: what is pending changes (persisted lazily). */
  noteRemoteState(doc: DocName, sv: Uint8Array): void {
    const w = this.#workers.get(doc)
    if (!w) return
    if (w.file.notedRemoteState(parseStateVector(sv))) void w.persist('soon')
    this.emit('summary')
  }

  /** Asks the document's worker for a write-back (joined with one not started yet); failures retry with backoff. */
  scheduleWriteBack(name: DocName): Promise<void> {
    // While git works nothing is written: `resumeAfterGit` reconciles (and writes) every file after it.
    if (this.#gitPaused) return Promise.resolve()
    const w = this.getOrCreate(name)
    return w.writeBack(async () => {
      try {
        await writeBack(this.#cx, w)
        this.io.recovered(w)
      } catch (err) {
        this.io.failed(name, err as Error, () => void this.scheduleWriteBack(name))
      }
      this.emit('summary')
    })
  }

  /** Failed reads and writes of tracked files and of the store: shown in status, retried (`ioretry.ts`). */
  readonly io = new IoRetry((n) => this.getOrCreate(n).file, (m) => this.warn(m), () => this.emit('summary'))

  /**
   * Waits until every document's worker is idle and every update is durable. Work that keeps arriving (a
   * peer streaming updates) can keep a document busy: then it stops waiting after a bound, warns, and
   * returns the documents still busy (empty when all are idle), so no caller mistakes that for done.
   */
  async idle(): Promise<DocName[]> {
    const busy = await untilIdle(() => [...this.#workers.values()])
    if (busy.length) this.warn(`still busy after waiting: ${busy.join(', ')}`)
    return busy
  }

  conflicts(): Conflict[] {
    const out: Conflict[] = []
    for (const w of this.#workers.values()) if (w.damaged === null && w.model.exists()) out.push(...w.model.conflicts())
    return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.display < b.display ? -1 : 1))
  }

  /** Applies a choice to a conflict; the resolution syncs like any change. */
  async resolve(id: string, take: Take): Promise<Conflict> {
    const c = this.conflicts().find((x) => x.id === id)
    if (!c) throw new CtxError('no-conflict', `no conflict ${id}: \`ctxsync resolve --list\` shows the current ones`)
    const w = this.getOrCreate(asDocName(c.file))
    try {
      w.model.resolve(id, take)
    } catch (err) {
      if (err instanceof TakeError) throw new CtxError('bad-choice', err.message)
      throw err
    }
    await w.log.flushed()
    await this.scheduleWriteBack(w.name)
    return c
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.io.close()
    await this.idle()
    for (const w of this.#workers.values()) await w.close()
    await this.parseCheck.close()
    await this.store.close()
    await this.release?.()
  }
}

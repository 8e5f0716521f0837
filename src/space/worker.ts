/**
 * DocWorker: one document's worker. Everything that reads or writes its file, or changes what is known of
 * it, runs as one turn of this worker, one turn at a time, in the order asked: a local save, a local
 * deletion or an unreadable file (from the watcher), a write-back (a peer's update applied, a conflict
 * resolved), a reconcile (startup, `sync`, after git). So the file's I/O and its sidecar meta never
 * interleave, and each turn reads the file at most once.
 *
 * Write-backs coalesce: asking for one while another is queued and not started joins it (a burst of
 * remote updates writes the file once), and a write-back waits one macrotask first, so updates arriving
 * together are written together.
 *
 * Meta changes a turn makes (`TrackedFile.dirty`) are written once, at its end (not fsynced: they can be
 * recomputed, but a kill -9 must find them). Acknowledgements outside any turn are written lazily (100 ms).
 * The only meta written in the middle of a turn is the one that must be on disk before
 * the next step for crash safety (`persist('now')`: the `writing` mark before a rename, the kept base
 * before a peer's update lands), and it goes into the same queue as the document's updates (`doclog.ts`).
 */
import { FileModel, type Author } from '../crdt/model.js'
import type { Rules } from '../crdt/rules.js'
import { stepTexts } from '../crdt/stepstates.js'
import type { DocStore } from '../fs/StorageAdapterInterface.js'
import type { DocName } from '../ids.js'
import type { DocTurn, DocView } from './context.js'
import { DocLog, type UpdateListener } from './doclog.js'
import { TrackedFile, type Persist } from './trackedfile.js'
import type { DocVersions, VersionBook } from './versions/recorder.js'

export interface WorkerParts {
  author: Author
  rules: Rules
  store: DocStore
  now?: () => number
  announce: UpdateListener
  onStoreError: (e: Error) => void
  onStoreRecovered: () => void
  /** Where versions are recorded (history, undo); null in a read-only open. */
  versions?: VersionBook | null
}

export class DocWorker implements DocView, DocTurn {
  readonly file: TrackedFile
  readonly log: DocLog
  readonly versions: DocVersions | null
  readonly #book: VersionBook | null
  #tail: Promise<void> = Promise.resolve()
  /** Turns asked for and not finished (a write-back counts from when it is asked for). */
  #open = 0
  #writeBack: Promise<void> | null = null
  /** Turns asked for `later`, not run yet (their timers are cleared on close). */
  #later = new Map<NodeJS.Timeout, Promise<void>>()
  /** Turns asked for `later` that are no work under way (`counted` false): cleared on close, not waited for. */
  #waits = new Set<NodeJS.Timeout>()

  constructor(
    readonly name: DocName,
    p: WorkerParts,
  ) {
    const model = new FileModel({ name, author: p.author, rules: p.rules, live: true, ...(p.now ? { now: p.now } : {}) })
    this.file = new TrackedFile(name, model)
    this.#book = p.versions ?? null
    this.versions = this.#book?.forDoc(name, model, (tr, client, marks) => stepTexts(model.doc, tr, client, marks, { name, rules: p.rules })) ?? null
    this.log = new DocLog(name, model, p.store, {
      announce: p.announce,
      onError: p.onStoreError,
      onRecovered: p.onStoreRecovered,
      meta: () => this.file.snapshotMeta(),
    })
  }

  // ── the read-only view (`Space.docs()`) ───────────────────────────────────────────────────────────
  get model(): FileModel { return this.file.model }
  get state() { return this.file.state }
  get problem() { return this.file.problem }
  get damaged() { return this.file.damaged }
  get diskHash() { return this.file.diskHash }
  get pending() { return this.file.pending }
  get storeError() { return this.log.storeError }
  get ioError() { return this.file.ioError }
  durableStateVector(): Uint8Array {
    return this.log.durableStateVector()
  }

  // ── the mailbox ───────────────────────────────────────────────────────────────────────────────────

  /** True when no turn is queued or under way. */
  get idle(): boolean { return this.#open === 0 }

  /** Runs `f` as the next turn, after every turn asked for before; its meta changes are written at its end. */
  run<T>(f: () => Promise<T>): Promise<T> {
    this.#open++
    const turn = this.#tail.then(async () => {
      try {
        return await f()
      } finally {
        // At once, not lazily: the next turn may act on what this one learnt of the file (a save on top
        // of the text just written), and a crash between the two must find it noted (see held.test.ts).
        if (this.file.dirty) await this.persist('now')
        // After the turn, off its path: a comparison here, the version written on a later macrotask.
        this.versions?.afterTurn(this.file)
      }
    })
    this.#tail = turn.then(
      () => void this.#open--,
      () => void this.#open--,
    )
    return turn
  }

  /** Asks for a write-back turn; joins one asked for and not started yet. */
  writeBack(f: () => Promise<unknown>): Promise<void> {
    if (this.#writeBack) return this.#writeBack
    this.#open++
    const p = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() =>
        this.run(async () => {
          this.#writeBack = null
          await f()
        }),
      )
      .finally(() => {
        this.#open--
        if (this.#writeBack === p) this.#writeBack = null
      })
    this.#writeBack = p
    return p
  }

  later(ms: number, f: () => Promise<unknown>, counted = true): void {
    if (!counted) {
      const t = setTimeout(() => void (this.#waits.delete(t), this.run(f).catch(() => undefined)), ms)
      this.#waits.add(t)
      return
    }
    this.#open++
    let timer!: NodeJS.Timeout
    const p = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))
      .then(() => this.run(f))
      .then(() => undefined, () => undefined)
      .finally(() => {
        this.#open--
        this.#later.delete(timer)
      })
    this.#later.set(timer, p)
  }

  /** Resolves once every turn asked for so far has run and every update so far is durable. */
  async drained(): Promise<void> {
    await Promise.all(this.#later.values())
    await this.#tail
    if (this.#writeBack) await this.#writeBack.catch(() => undefined)
    await this.log.flushed()
  }

  async persist(when: Persist): Promise<void> {
    if (when === null) return
    await this.log.writeMeta(() => this.file.persisted(), when)
  }

  async close(): Promise<void> {
    for (const t of this.#later.keys()) clearTimeout(t)
    for (const t of this.#waits) clearTimeout(t)
    this.#open -= this.#later.size
    this.#later.clear()
    if (this.file.dirty && !this.log.metaWaiting) await this.persist('now')
    await this.log.close(() => this.file.persisted())
    await this.#book?.flushed()
    this.file.model.destroy()
  }
}

/** How many times `untilIdle` waits for the work it found before it gives up and names what is still busy. */
const IDLE_ROUNDS = 10

/** Waits (a bounded number of rounds) until every worker is idle; returns the names of those still busy. */
export async function untilIdle(workers: () => DocWorker[]): Promise<DocName[]> {
  let busy: DocName[] = []
  for (let i = 0; i < IDLE_ROUNDS; i++) {
    await Promise.all(workers().map((w) => w.drained()))
    busy = workers().filter((w) => !w.idle).map((w) => w.name)
    if (busy.length === 0) break
  }
  return busy
}

/**
 * DocLog: one document's durable log in the sidecar store, and the single queue its store writes go
 * through (updates and meta, in order).
 *
 * Every Yjs update of the model is appended to the sidecar (fsynced) and only then announced to the
 * network. A peer therefore never holds an operation this machine could lose in a crash, and a restart
 * never re-creates an operation under a new client id (which could double list items).
 *
 * When the store fails (a full disk, a read-only or vanished `.ctxsync/`), updates are neither lost nor
 * announced: they wait in memory (`unsaved`), the file shows the error in `status`, remote updates for it
 * are not acknowledged (`Space.applyRemote` throws, so the sender keeps them), and the whole state is
 * written again as a snapshot with backoff until the store takes it; then the waiting updates go out.
 */
import { LOAD, type FileModel, type RemoteOrigin } from '../crdt/model.js'
import type { DocMeta, DocStore } from '../fs/StorageAdapterInterface.js'
import type { DocName, PeerId } from '../ids.js'
import { logger } from '../debuglog.js'
import { encodeStateVector, parseStateVector, updateExtent } from '../net/statevector.js'
import { isWhole, WholeGate } from '../net/whole.js'

const log = logger('space:doc')
const RETRY_MIN_MS = 250
const RETRY_MAX_MS = 30_000

export type UpdateListener = (doc: DocName, update: Uint8Array, origin: PeerId | null) => void

export interface DocLogHooks {
  announce: UpdateListener
  /** A store failure (said by the space at most once every 10 s). */
  onError: (e: Error) => void
  /** The store took this document's state again after failing. */
  onRecovered: () => void
  /** The meta to write beside a snapshot. */
  meta: () => DocMeta
}

export class DocLog {
  #queue: Promise<void> = Promise.resolve()
  #metaTimer: NodeJS.Timeout | null = null
  #unsaved: Array<{ update: Uint8Array; from: PeerId | null }> = []
  #retryTimer: NodeJS.Timeout | null = null
  #retries = 0
  #closing = false
  /** Why the store refuses this document's updates now (full disk, read-only); null when it takes them. */
  storeError: string | null = null
  /** Peers' updates that left the document incomplete wait here before they are announced (`net/whole.ts`). */
  readonly #gate: WholeGate<PeerId>

  constructor(
    private readonly name: DocName,
    private readonly model: FileModel,
    private readonly store: DocStore,
    private readonly hooks: DocLogHooks,
  ) {
    this.#gate = new WholeGate<PeerId>((u, from) => hooks.announce(name, u, from))
    model.doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin === LOAD) return
      const from = typeof origin === 'object' && origin !== null && 'remote' in origin ? ((origin as RemoteOrigin).remote as PeerId) : null
      // Read now: by the time the append is done a later update may have made the document whole.
      this.enqueue(u, from, isWhole(model.doc))
    })
  }

  private enqueue(update: Uint8Array, from: PeerId | null, whole = true): void {
    this.#queue = this.#queue
      .then(async () => {
        // Behind a failed append nothing is appended: the log must not hold an update without its predecessors.
        if (this.#unsaved.length > 0) return void this.#unsaved.push({ update, from })
        try {
          await this.store.append(this.name, update)
        } catch (e) {
          this.#unsaved.push({ update, from })
          this.storeFailed(e as Error)
          return
        }
        this.#gate.push(update, from, whole, from !== null)
        if (this.store.shouldCompact(this.name)) await this.compact()
      })
      .catch((e: unknown) => this.hooks.onError(e as Error))
  }

  private storeFailed(e: Error): void {
    const first = this.storeError === null
    this.storeError = e.message
    if (first) this.hooks.onError(e)
    if (this.#retryTimer || this.#closing) return
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(this.#retries++, 8))
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null
      this.#queue = this.#queue.then(() => this.saveAgain()).catch((err: unknown) => this.hooks.onError(err as Error))
    }, delay)
    this.#retryTimer.unref?.()
  }

  /** Writes the whole state as a snapshot (it holds every unsaved update); announces them once it is durable. */
  private async saveAgain(): Promise<void> {
    if (this.#unsaved.length === 0) return
    try {
      await this.store.compact(this.name, this.model.encodeDiff(), this.hooks.meta())
    } catch (e) {
      this.storeFailed(e as Error)
      return
    }
    const waiting = this.#unsaved
    this.#unsaved = []
    this.storeError = null
    this.#retries = 0
    log('%s: saved again (%d update(s) had waited)', this.name, waiting.length)
    for (const { update, from } of waiting) this.hooks.announce(this.name, update, from)
    this.hooks.onRecovered()
  }

  /**
   * The state vector of what is durable: the model's, less the updates waiting for the store (peers are
   * told only this, so none takes an update this machine could still lose for acknowledged).
   */
  durableStateVector(): Uint8Array {
    if (this.#unsaved.length === 0) return this.model.stateVector()
    const sv = parseStateVector(this.model.stateVector())
    for (const { update } of this.#unsaved) {
      for (const [client, from] of updateExtent(update).from) {
        if (from < (sv.get(client) ?? 0)) sv.set(client, from)
      }
    }
    for (const [client, clock] of sv) if (clock === 0) sv.delete(client)
    return encodeStateVector(sv)
  }

  /** Resolves once every update so far is durable (and every meta write queued so far is done). */
  flushed(): Promise<void> {
    return this.#queue
  }

  async compact(): Promise<void> {
    await this.store.compact(this.name, this.model.encodeDiff(), this.hooks.meta())
    log('compacted %s', this.name)
  }

  /**
   * Persists meta in the update queue (behind every update so far). Not fsynced: meta guards against the
   * process dying and can be recomputed. `soon` waits 100 ms so that a burst (acknowledgements) writes once.
   */
  writeMeta(meta: () => DocMeta, when: 'now' | 'soon'): Promise<void> {
    if (this.#metaTimer) clearTimeout(this.#metaTimer)
    this.#metaTimer = null
    const write = () => {
      this.#queue = this.#queue.then(() => this.store.writeMeta(this.name, meta(), { durable: false })).catch((e: unknown) => this.hooks.onError(e as Error))
      return this.#queue
    }
    if (when === 'now') return write()
    this.#metaTimer = setTimeout(() => {
      this.#metaTimer = null
      void write()
    }, 100)
    this.#metaTimer.unref?.()
    return Promise.resolve()
  }

  /** A meta write is waiting on its timer. */
  get metaWaiting(): boolean {
    return this.#metaTimer !== null
  }

  async close(flushMeta: () => DocMeta): Promise<void> {
    if (this.#metaTimer) await this.writeMeta(flushMeta, 'now')
    if (this.#retryTimer) {
      // One last try: what still cannot be written is lost with the process (status said so meanwhile).
      clearTimeout(this.#retryTimer)
      this.#retryTimer = null
      this.#queue = this.#queue.then(() => this.saveAgain()).catch((err: unknown) => this.hooks.onError(err as Error))
    }
    this.#closing = true
    await this.#queue
    this.#gate.close()
  }
}

/**
 * One tracked document inside a space: its CRDT model, its sidecar bookkeeping and what is known of the
 * file on disk.
 *
 * Every Yjs update of the model goes through one per-document queue: appended to the sidecar (fsynced),
 * and only then announced to the network. A peer therefore never holds an operation this machine could
 * lose in a crash, and a restart never re-creates an operation under a new client id (which could double
 * list items).
 *
 * When the store fails (a full disk, a read-only or vanished `.ctxsync/`), updates are neither lost nor
 * announced: they wait in memory (`unsaved`), the file shows the error in `status`, remote updates for it
 * are not acknowledged (`Space.applyRemote` throws, so the sender keeps them), and the whole state is
 * written again as a snapshot with backoff until the store takes it; then the waiting updates go out.
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { FileModel, LOAD, type Author, type RemoteOrigin } from '../crdt/model.js'
import type { Rules } from '../crdt/rules.js'
import type { DocMeta, DocStore } from '../fs/StorageAdapterInterface.js'
import type { DocName, PeerId } from '../ids.js'
import { logger } from '../log.js'

const log = logger('space:doc')
const RETRY_MIN_MS = 250
const RETRY_MAX_MS = 30_000

export type FileState = 'ok' | 'held' | 'refused' | 'unreadable'

export interface FileProblem {
  line: number
  col: number
  message: string
}

export type UpdateListener = (doc: DocName, update: Uint8Array, origin: PeerId | null) => void

export class DocEntry {
  readonly model: FileModel
  meta: DocMeta = {}
  state: FileState = 'ok'
  problem: FileProblem | null = null
  /**
   * Why the document's state is outside the limits of `crdt/limits.ts` (stored by an older version), or
   * null. Such a document stays held for good: not rendered, not written, not synced (see files.ts).
   */
  damaged: string | null = null
  /** sha256 of what the file on disk holds as far as we know (our last write or the last read); null: absent. */
  diskHash: string | null | undefined = undefined
  private queue: Promise<void> = Promise.resolve()
  private metaTimer: NodeJS.Timeout | null = null
  /** Serialises reads and writes of the file itself. */
  fileChain: Promise<void> = Promise.resolve()
  /** Why the sidecar store refuses this document's updates now (full disk, read-only); null when it takes them. */
  storeError: string | null = null
  /** Why the file could not be read or written lately (taken in or written again once it can be). */
  ioError: string | null = null
  private unsaved: Array<{ update: Uint8Array; from: PeerId | null }> = []
  private retryTimer: NodeJS.Timeout | null = null
  private retries = 0

  constructor(
    readonly name: DocName,
    author: Author,
    rules: Rules,
    private readonly store: DocStore,
    private readonly announce: UpdateListener,
    private readonly onError: (e: Error) => void,
    /** The store took this document's state again after failing. */
    private readonly onRecovered: () => void = () => {},
    now?: () => number,
  ) {
    this.model = new FileModel({ name, author, rules, ...(now ? { now } : {}) })
    this.model.doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin === LOAD) return
      const from = typeof origin === 'object' && origin !== null && 'remote' in origin ? ((origin as RemoteOrigin).remote as PeerId) : null
      this.enqueue(u, from)
    })
  }

  private enqueue(update: Uint8Array, from: PeerId | null): void {
    this.queue = this.queue
      .then(async () => {
        // Behind a failed append nothing is appended: the log must not hold an update without its predecessors.
        if (this.unsaved.length > 0) return void this.unsaved.push({ update, from })
        try {
          await this.store.append(this.name, update)
        } catch (e) {
          this.unsaved.push({ update, from })
          this.storeFailed(e as Error)
          return
        }
        this.announce(this.name, update, from)
        if (this.store.shouldCompact(this.name)) await this.compact()
      })
      .catch((e: unknown) => this.onError(e as Error))
  }

  private storeFailed(e: Error): void {
    const first = this.storeError === null
    this.storeError = e.message
    if (first) this.onError(e)
    if (this.retryTimer || this.closing) return
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(this.retries++, 8))
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.queue = this.queue.then(() => this.saveAgain()).catch((err: unknown) => this.onError(err as Error))
    }, delay)
    this.retryTimer.unref?.()
  }

  /** Writes the whole state as a snapshot (it holds every unsaved update); announces them once it is durable. */
  private async saveAgain(): Promise<void> {
    if (this.unsaved.length === 0) return
    try {
      await this.store.compact(this.name, Y.encodeStateAsUpdate(this.model.doc), this.meta)
    } catch (e) {
      this.storeFailed(e as Error)
      return
    }
    const waiting = this.unsaved
    this.unsaved = []
    this.storeError = null
    this.retries = 0
    log('%s: saved again (%d update(s) had waited)', this.name, waiting.length)
    for (const { update, from } of waiting) this.announce(this.name, update, from)
    this.onRecovered()
  }

  private closing = false

  /**
   * The state vector of what is durable: the model's, less the updates waiting for the store (peers are
   * told only this, so none takes an update this machine could still lose for acknowledged).
   */
  durableStateVector(): Uint8Array {
    if (this.unsaved.length === 0) return this.model.stateVector()
    const sv = Y.decodeStateVector(this.model.stateVector())
    for (const { update } of this.unsaved) {
      for (const [client, from] of Y.parseUpdateMeta(update).from) {
        if (from < (sv.get(client) ?? 0)) sv.set(client, from)
      }
    }
    for (const [client, clock] of sv) if (clock === 0) sv.delete(client)
    return encodeSV(sv)
  }

  /** Resolves once every update so far is durable. */
  flushed(): Promise<void> {
    return this.queue
  }

  async compact(): Promise<void> {
    await this.store.compact(this.name, Y.encodeStateAsUpdate(this.model.doc), this.meta)
    log('compacted %s', this.name)
  }

  /** Persists meta soon (it can be recomputed, so no fsync); `now` writes it immediately. */
  saveMeta(now = false): Promise<void> | void {
    if (this.metaTimer) clearTimeout(this.metaTimer)
    this.metaTimer = null
    const write = () => {
      this.queue = this.queue.then(() => this.store.writeMeta(this.name, { ...this.meta }, { durable: false })).catch((e: unknown) => this.onError(e as Error))
      return this.queue
    }
    if (now) return write()
    this.metaTimer = setTimeout(() => {
      this.metaTimer = null
      void write()
    }, 100)
    this.metaTimer.unref?.()
  }

  async close(): Promise<void> {
    if (this.metaTimer) await this.saveMeta(true)
    if (this.retryTimer) {
      // One last try: what still cannot be written is lost with the process (status said so meanwhile).
      clearTimeout(this.retryTimer)
      this.retryTimer = null
      this.queue = this.queue.then(() => this.saveAgain()).catch((err: unknown) => this.onError(err as Error))
    }
    this.closing = true
    await this.queue
    this.model.destroy()
  }

  /** Local changes no peer is known to hold. */
  get pending(): boolean {
    const acked = this.meta.ackedSV ? Y.decodeStateVector(Buffer.from(this.meta.ackedSV, 'base64')) : new Map<number, number>()
    for (const [client, clock] of Y.decodeStateVector(this.model.stateVector())) {
      if (clock > (acked.get(client) ?? 0)) return true
    }
    return false
  }

  noteRemoteState(sv: Uint8Array): void {
    const acked = this.meta.ackedSV ? Y.decodeStateVector(Buffer.from(this.meta.ackedSV, 'base64')) : new Map<number, number>()
    let changed = false
    for (const [client, clock] of Y.decodeStateVector(sv)) {
      if (clock > (acked.get(client) ?? 0)) {
        acked.set(client, clock)
        changed = true
      }
    }
    if (!changed) return
    this.meta.ackedSV = Buffer.from(encodeSV(acked)).toString('base64')
    this.saveMeta()
  }
}

/** The Yjs state-vector wire format (Yjs exports a decoder for it, not an encoder of a bare Map). */
function encodeSV(sv: Map<number, number>): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, sv.size)
  for (const [client, clock] of [...sv].sort((a, b) => b[0] - a[0])) {
    encoding.writeVarUint(enc, client)
    encoding.writeVarUint(enc, clock)
  }
  return encoding.toUint8Array(enc)
}

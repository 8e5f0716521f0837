/**
 * Sidecar storage contract: durable CRDT state for each tracked document.
 *
 * A document's state is an append-only log of Yjs updates plus, from time to time, a compacted snapshot.
 * `append` resolves only once the bytes are fsynced: anything the caller acknowledged after that survives
 * kill -9. Writers are exclusive per space (the space lock); readers (e.g. `status`) may read concurrently
 * and must tolerate a log whose last record is being written (a torn tail is not corruption).
 *
 * Implementations: `sidecar.ts` (files under `.ctxsync/docs/`) and `memoryStore.ts` (tests). Both run the
 * shared contract suite `test/fs/store.contract.ts`.
 */
import type { DocName } from '../ids.js'

/**
 * Per-document bookkeeping that travels with the CRDT state: a JSON object the store keeps as it was
 * given (written with `writeMeta`, or with the snapshot at `compact`) and returns from `load`. Its fields
 * belong to the space (`space/trackedfile.ts`); the store reads none of them.
 */
export type DocMeta = Record<string, unknown>

export interface LoadedDoc {
  /** Updates to apply in order: the snapshot's state first, then each log record. */
  updates: Uint8Array[]
  meta: DocMeta
  /** Bytes on disk (snapshot + log), for compaction decisions and benchmarks. */
  bytes: number
  /** Non-fatal oddities found while loading (e.g. a torn last record that was dropped). */
  warnings: string[]
}

export class SidecarCorruptError extends Error {
  readonly doc: DocName
  constructor(doc: DocName, reason: string) {
    super(`sidecar state of ${doc} is corrupt: ${reason}`)
    this.name = 'SidecarCorruptError'
    this.doc = doc
  }
}

export interface DocStore {
  /** Documents that have state in this store. */
  list(): Promise<DocName[]>
  /** Loads a document's state; null when it has none; throws SidecarCorruptError when it cannot be read. */
  load(doc: DocName): Promise<LoadedDoc | null>
  /** Appends one update durably (fsync before resolving). */
  append(doc: DocName, update: Uint8Array): Promise<void>
  /** Records new meta. `durable: false` may skip the fsync (meta that can be recomputed). */
  writeMeta(doc: DocName, meta: DocMeta, opts?: { durable?: boolean }): Promise<void>
  /** Atomically replaces the document's state with one snapshot update and meta, emptying the log. */
  compact(doc: DocName, snapshot: Uint8Array, meta: DocMeta): Promise<void>
  /** True when the log has grown enough that the caller should compact. */
  shouldCompact(doc: DocName): boolean
  /** Removes all state of a document (used when rebuilding a corrupt sidecar). */
  remove(doc: DocName): Promise<void>
  /** Total bytes on disk for a document (0 when none). */
  size(doc: DocName): Promise<number>
  close(): Promise<void>
}

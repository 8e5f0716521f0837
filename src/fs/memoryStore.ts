/**
 * MemoryDocStore: a deterministic in-memory DocStore for unit tests of other modules. It follows the same
 * contract as FileDocStore (the shared suite in test/fs/store.contract.ts runs against both) and copies
 * every buffer in and out so callers cannot alias its state.
 */
import type { DocName } from '../ids.js'
import type { DocMeta, DocStore, LoadedDoc } from './StorageAdapterInterface.js'
import { ioCounts } from './atomic.js'

export interface MemoryDocStoreConfig {
  compactAfterBytes?: number
  compactAfterRecords?: number
}

interface MemDoc {
  snapshot: Uint8Array | null
  log: Uint8Array[]
  meta: DocMeta
  logBytes: number
  records: number
}

export class MemoryDocStore implements DocStore {
  private readonly docs: Map<DocName, MemDoc>
  private readonly compactAfterBytes: number
  private readonly compactAfterRecords: number
  private closed = false

  constructor(config: MemoryDocStoreConfig = {}, docs = new Map<DocName, MemDoc>()) {
    this.compactAfterBytes = config.compactAfterBytes ?? 256 * 1024
    this.compactAfterRecords = config.compactAfterRecords ?? 500
    this.docs = docs
  }

  /** A new store over the same state, as a restarted process would see it (for restart tests). */
  reopen(): MemoryDocStore {
    return new MemoryDocStore({ compactAfterBytes: this.compactAfterBytes, compactAfterRecords: this.compactAfterRecords }, this.docs)
  }

  async list(): Promise<DocName[]> {
    return [...this.docs.keys()].sort()
  }

  async load(doc: DocName): Promise<LoadedDoc | null> {
    const d = this.docs.get(doc)
    if (!d) return null
    const updates = [...(d.snapshot && d.snapshot.length > 0 ? [d.snapshot] : []), ...d.log].map((u) => u.slice())
    return { updates, meta: structuredClone(d.meta), bytes: bytesOf(d), warnings: [] }
  }

  async append(doc: DocName, update: Uint8Array): Promise<void> {
    const d = this.get(doc)
    d.log.push(update.slice())
    d.logBytes += update.length
    d.records++
  }

  async writeMeta(doc: DocName, meta: DocMeta): Promise<void> {
    ioCounts.metaWrites++
    const d = this.get(doc)
    d.meta = roundTrip(meta)
    d.logBytes += JSON.stringify(meta).length
    d.records++
  }

  async compact(doc: DocName, snapshot: Uint8Array, meta: DocMeta): Promise<void> {
    const d = this.get(doc)
    d.snapshot = snapshot.slice()
    d.log = []
    d.meta = roundTrip(meta)
    d.logBytes = 0
    d.records = 0
  }

  shouldCompact(doc: DocName): boolean {
    const d = this.docs.get(doc)
    return d !== undefined && (d.logBytes >= this.compactAfterBytes || d.records >= this.compactAfterRecords)
  }

  async remove(doc: DocName): Promise<void> {
    this.docs.delete(doc)
  }

  async size(doc: DocName): Promise<number> {
    const d = this.docs.get(doc)
    return d ? bytesOf(d) : 0
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private get(doc: DocName): MemDoc {
    if (this.closed) throw new Error('the document store is closed')
    let d = this.docs.get(doc)
    if (!d) {
      d = { snapshot: null, log: [], meta: {}, logBytes: 0, records: 0 }
      this.docs.set(doc, d)
    }
    return d
  }
}

/** Same JSON semantics as the file store (undefined fields vanish), so tests cannot pass here and fail there. */
function roundTrip(meta: DocMeta): DocMeta {
  return JSON.parse(JSON.stringify(meta)) as DocMeta
}

function bytesOf(d: MemDoc): number {
  return (d.snapshot?.length ?? 0) + d.logBytes + JSON.stringify(d.meta).length
}

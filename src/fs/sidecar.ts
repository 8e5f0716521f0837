/**
 * FileDocStore: the sidecar store on disk (`.ctxsync/docs/`), one snapshot + one append-only log per document.
 * Byte layout and the torn-tail rule are in sidecarFormat.ts.
 *
 * Crash safety rests on ordering and generations, never on in-place rewrites:
 * - append writes its record at the known end of the log and fdatasyncs before resolving (appends that
 *   arrive during a write are grouped into the next write and sync);
 * - compact writes snapshot g+1 (temp file, fsync, rename, fsync dir) and only then swaps in an empty log g+1
 *   the same way. A crash between the two leaves snapshot g+1 beside log g: `load` replays that old log's
 *   updates (harmless, Yjs updates are idempotent, and it saves us if a caller's snapshot missed one) but
 *   ignores its META records, which are older than the snapshot's meta. The writer resets such a log on open.
 * - A log newer than its snapshot (or with no snapshot) means the snapshot it builds on is gone: corrupt.
 * `load` reads the log before the snapshot so that a reader racing a compaction sees either the old log with
 * a newer snapshot (covered by the rule above) or the new pair, never a new log with an old snapshot.
 * Only the lock holder writes; other processes may `load` at any time and never modify files.
 */
import fs from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { sha256hex, type DocName, asDocName } from '../ids.js'
import { logger } from '../debuglog.js'
import { ioCounts } from './atomic.js'
import { SidecarCorruptError, type DocMeta, type DocStore, type LoadedDoc } from './StorageAdapterInterface.js'
import {
  Codec, FormatError, LOG_MAGIC, RecordType, SNAP_MAGIC, decodeHeader, encodeHeader, encodeRecord, encodeSnapshotBody,
  encodeSnapshotFile, parseLog, type ParsedLog,
} from './sidecarFormat.js'
import { checkName, decodeDocFiles, pack } from './sidecarLoad.js'
import { TMP_MARK, isNoEnt, readHead, readOrNull, replaceFileDurably, syncDir, unlinkIfAny, writeAll } from './fileIo.js'

const log = logger('fs:sidecar')

export interface FileDocStoreConfig {
  /** Directory holding the files, e.g. `<repo>/.ctxsync/docs`. Created on first write. */
  dir: string
  /** Log size after which `shouldCompact` says yes (default 256 KiB). */
  compactAfterBytes?: number
  /** Log records after which `shouldCompact` says yes (default 500). */
  compactAfterRecords?: number
  /** Snapshot codec. Default brotli quality 2: on a 200 KiB Yjs state it packs to 0.31 in ~2 ms, where
   *  deflate level 1 gives 0.34 in ~2.3 ms and brotli 4 gives 0.30 in ~6.5 ms (see the figures test). */
  codec?: 'brotli' | 'deflate' | 'none'
  /** Log file descriptors kept open (least recently used ones are closed beyond this; default 64). */
  maxOpenLogs?: number
}

interface OpenLog {
  fh: FileHandle
  generation: number
  end: number
  /** Set while a write uses the handle, so that fd eviction leaves it alone. */
  busy: boolean
}
interface Batch {
  recs: Buffer[]
  durable: boolean
  done: Promise<void>
}
interface Counters {
  logBytes: number
  records: number
}

export class FileDocStore implements DocStore {
  readonly dir: string
  private readonly compactAfterBytes: number
  private readonly compactAfterRecords: number
  private readonly codec: Codec
  private readonly maxOpenLogs: number
  /** Open logs, least recently used first (Map order). */
  private readonly logs = new Map<DocName, OpenLog>()
  private readonly queues = new Map<DocName, Promise<void>>()
  /** The not-yet-started batch at the tail of each doc's queue, which new records join. */
  private readonly batches = new Map<DocName, Batch>()
  private readonly counters = new Map<DocName, Counters>()
  private dirReady: Promise<void> | null = null
  private closed = false

  constructor(config: FileDocStoreConfig) {
    this.dir = path.resolve(config.dir)
    this.compactAfterBytes = config.compactAfterBytes ?? 256 * 1024
    this.compactAfterRecords = config.compactAfterRecords ?? 500
    this.codec = config.codec === 'none' ? Codec.None : config.codec === 'deflate' ? Codec.Deflate : Codec.Brotli
    this.maxOpenLogs = Math.max(1, config.maxOpenLogs ?? 64)
  }

  /** File names come from a hash so that any doc name (slashes, dots, case) maps to a safe flat name. */
  private paths(doc: DocName): { log: string; snap: string } {
    const key = fileKey(doc)
    return { log: path.join(this.dir, `${key}.log`), snap: path.join(this.dir, `${key}.snap`) }
  }

  async list(): Promise<DocName[]> {
    let names: string[]
    try {
      names = await fs.readdir(this.dir)
    } catch (e) {
      if (isNoEnt(e)) return []
      throw e
    }
    const keys = new Set<string>()
    for (const n of names) {
      const m = /^([0-9a-f]{32})\.(log|snap)$/.exec(n)
      if (m) keys.add(m[1]!)
    }
    const docs: DocName[] = []
    for (const key of keys) {
      const name = (await this.nameIn(path.join(this.dir, `${key}.log`), LOG_MAGIC)) ??
        (await this.nameIn(path.join(this.dir, `${key}.snap`), SNAP_MAGIC))
      if (name !== null && fileKey(name) === key) docs.push(asDocName(name))
      else log('skipping %s: no readable header names a document with this key', key)
    }
    return docs.sort()
  }

  private async nameIn(file: string, magic: string): Promise<string | null> {
    try {
      return decodeHeader(await readHead(file), magic, 'file').docName
    } catch {
      return null
    }
  }

  load(doc: DocName): Promise<LoadedDoc | null> {
    // In the writer's process, queue behind pending appends so the caller sees its own writes.
    return this.enqueue(doc, () => this.loadNow(doc), false)
  }

  private async loadNow(doc: DocName): Promise<LoadedDoc | null> {
    const p = this.paths(doc)
    // Log before snapshot: see the header comment on racing a compaction.
    const logBuf = await readOrNull(p.log)
    const snapBuf = await readOrNull(p.snap)
    if (logBuf === null && snapBuf === null) return null
    try {
      const { loaded, logBytes, records } = await decodeDocFiles(doc, logBuf, snapBuf)
      this.counters.set(doc, { logBytes, records })
      for (const w of loaded.warnings) log('%s: %s', doc, w)
      return loaded
    } catch (e) {
      if (e instanceof FormatError) throw new SidecarCorruptError(doc, e.message)
      throw e
    }
  }

  append(doc: DocName, update: Uint8Array): Promise<void> {
    return this.addRecord(doc, encodeRecord(RecordType.Update, update), true)
  }

  writeMeta(doc: DocName, meta: DocMeta, opts?: { durable?: boolean }): Promise<void> {
    ioCounts.metaWrites++
    return this.addRecord(doc, encodeRecord(RecordType.Meta, Buffer.from(JSON.stringify(meta), 'utf8')), opts?.durable !== false)
  }

  /**
   * Group commit: records added while the previous write is in flight wait together and go out as one
   * write + one fdatasync, so a burst of N appends costs about one sync instead of N. Order is kept: a batch
   * joins the queue where its first record did, and any other operation closes the batch behind it.
   */
  private addRecord(doc: DocName, rec: Buffer, durable: boolean): Promise<void> {
    let b = this.batches.get(doc)
    if (!b) {
      const batch: Batch = { recs: [], durable: false, done: Promise.resolve() }
      batch.done = this.enqueue(doc, async () => {
        if (this.batches.get(doc) === batch) this.batches.delete(doc)
        await this.writeRecords(doc, batch.recs, batch.durable)
      })
      this.batches.set(doc, (b = batch))
    }
    b.recs.push(rec)
    b.durable ||= durable
    return b.done
  }

  /**
   * The snapshot must contain every update appended before this call (the caller encodes its whole doc);
   * appends made after it go to the new log.
   */
  compact(doc: DocName, snapshot: Uint8Array, meta: DocMeta): Promise<void> {
    return this.enqueue(doc, async () => {
      await this.ensureDir()
      const p = this.paths(doc)
      const open = this.logs.get(doc)
      const current = open ? open.generation : Math.max(await this.generationIn(p.log, LOG_MAGIC), await this.generationIn(p.snap, SNAP_MAGIC))
      const generation = current + 1
      const raw = encodeSnapshotBody({ meta, update: snapshot })
      const file = encodeSnapshotFile(generation, doc, this.codec, raw.length, await pack(this.codec, raw))
      await replaceFileDurably(this.dir, p.snap, file)
      await this.closeLog(doc)
      await this.createLog(doc, generation)
      log('%s: compacted to generation %d (%d bytes raw, %d on disk)', doc, generation, raw.length, file.length)
    })
  }

  shouldCompact(doc: DocName): boolean {
    const c = this.counters.get(doc)
    return c !== undefined && (c.logBytes >= this.compactAfterBytes || c.records >= this.compactAfterRecords)
  }

  remove(doc: DocName): Promise<void> {
    return this.enqueue(doc, async () => {
      await this.closeLog(doc)
      const p = this.paths(doc)
      await Promise.all([unlinkIfAny(p.log), unlinkIfAny(p.snap)])
      this.counters.delete(doc)
      await syncDir(this.dir).catch((e: unknown) => { if (!isNoEnt(e)) throw e })
    })
  }

  async size(doc: DocName): Promise<number> {
    const p = this.paths(doc)
    const sizes = await Promise.all([p.log, p.snap].map((f) => fs.stat(f).then((s) => s.size, () => 0)))
    return sizes[0]! + sizes[1]!
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.queues.values()])
    await Promise.all([...this.logs.keys()].map((d) => this.closeLog(d)))
  }

  private enqueue<T>(doc: DocName, fn: () => Promise<T>, writes = true): Promise<T> {
    if (this.closed && writes) return Promise.reject(new Error('the document store is closed'))
    this.batches.delete(doc)
    const prev = this.queues.get(doc) ?? Promise.resolve()
    const run = prev.then(fn)
    const tail = run.then(() => undefined, () => undefined)
    this.queues.set(doc, tail)
    void tail.then(() => { if (this.queues.get(doc) === tail) this.queues.delete(doc) })
    return run
  }

  private async writeRecords(doc: DocName, recs: Buffer[], durable: boolean): Promise<void> {
    const lg = await this.openLog(doc)
    const data = recs.length === 1 ? recs[0]! : Buffer.concat(recs)
    try {
      await writeAll(lg.fh, data, lg.end)
      if (durable) await lg.fh.datasync()
    } catch (e) {
      // Cut back whatever part of the record made it, so a later append does not land after garbage.
      await lg.fh.truncate(lg.end).catch(() => undefined)
      lg.busy = false
      await this.closeLog(doc)
      throw e
    }
    lg.busy = false
    lg.end += data.length
    const c = this.counters.get(doc) ?? { logBytes: 0, records: 0 }
    this.counters.set(doc, { logBytes: c.logBytes + data.length, records: c.records + recs.length })
    await this.closeIdleLogs(0)
  }

  /** Opens the log for appending, repairing what a crash may have left (torn tail, leftover generation). */
  private async openLog(doc: DocName): Promise<OpenLog> {
    const existing = this.logs.get(doc)
    if (existing) {
      this.logs.delete(doc)
      this.logs.set(doc, existing)
      existing.busy = true
      return existing
    }
    await this.ensureDir()
    await this.closeIdleLogs(1)
    const p = this.paths(doc)
    const snapGen = await this.generationIn(p.snap, SNAP_MAGIC, doc)
    const buf = await readOrNull(p.log)
    if (buf === null || buf.length === 0) return busy(await this.createLog(doc, snapGen))
    let parsed: ParsedLog
    try {
      parsed = parseLog(buf)
      checkName(parsed.header.docName, doc)
    } catch (e) {
      if (e instanceof FormatError) throw new SidecarCorruptError(doc, e.message)
      throw e
    }
    const gen = parsed.header.generation
    if (gen > snapGen) throw new SidecarCorruptError(doc, `log generation ${gen} builds on a snapshot that is missing`)
    if (gen < snapGen) return busy(await this.createLog(doc, snapGen))
    const fh = await fs.open(p.log, 'r+')
    if (parsed.torn) {
      log('%s: cutting a torn tail of %d bytes before appending', doc, parsed.torn.bytes)
      await fh.truncate(parsed.validEnd)
      await fh.datasync()
    }
    const lg: OpenLog = { fh, generation: gen, end: parsed.validEnd, busy: true }
    this.logs.set(doc, lg)
    this.counters.set(doc, { logBytes: parsed.validEnd - parsed.header.end, records: parsed.records.length })
    return lg
  }

  private async createLog(doc: DocName, generation: number): Promise<OpenLog> {
    const p = this.paths(doc)
    const header = encodeHeader(LOG_MAGIC, generation, doc)
    await replaceFileDurably(this.dir, p.log, header)
    const lg: OpenLog = { fh: await fs.open(p.log, 'r+'), generation, end: header.length, busy: false }
    this.logs.set(doc, lg)
    this.counters.set(doc, { logBytes: 0, records: 0 })
    return lg
  }

  /** Generation in a file's header; 0 when absent. `doc` set: an unreadable header is corruption. */
  private async generationIn(file: string, magic: string, doc?: DocName): Promise<number> {
    let head: Buffer
    try {
      head = await readHead(file)
    } catch (e) {
      if (isNoEnt(e)) return 0
      throw e
    }
    try {
      return decodeHeader(head, magic, magic === LOG_MAGIC ? 'log' : 'snapshot').generation
    } catch (e) {
      if (!(e instanceof FormatError)) throw e
      if (doc !== undefined) throw new SidecarCorruptError(doc, e.message)
      return 0
    }
  }

  /** A space may track thousands of files: keep fd use bounded (leaving `room` free) by closing idle logs. */
  private async closeIdleLogs(room: number): Promise<void> {
    for (const [doc, lg] of this.logs) {
      if (this.logs.size + room <= this.maxOpenLogs) return
      if (!lg.busy) await this.closeLog(doc)
    }
  }

  private async closeLog(doc: DocName): Promise<void> {
    const lg = this.logs.get(doc)
    if (!lg) return
    this.logs.delete(doc)
    await lg.fh.close().catch(() => undefined)
  }

  /** Creates the directory and, once per store (we are the only writer), sweeps temp files of crashed writes. */
  private ensureDir(): Promise<void> {
    this.dirReady ??= (async () => {
      const made = await fs.mkdir(this.dir, { recursive: true })
      // New directory entries are durable only once their parent directories are synced.
      if (made !== undefined) {
        for (let d = this.dir; ; d = path.dirname(d)) {
          await syncDir(path.dirname(d))
          if (d === made || path.dirname(d) === d) break
        }
      }
      for (const n of await fs.readdir(this.dir)) {
        if (n.includes(TMP_MARK)) await unlinkIfAny(path.join(this.dir, n))
      }
    })().catch((e: unknown) => {
      this.dirReady = null
      throw e
    })
    return this.dirReady
  }
}

export function fileKey(doc: string): string {
  return sha256hex(doc).slice(0, 32)
}

function busy(lg: OpenLog): OpenLog {
  lg.busy = true
  return lg
}


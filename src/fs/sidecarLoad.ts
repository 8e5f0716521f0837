/**
 * From bytes to document state: snapshot compression and the generation rules that decide how a
 * document's snapshot and log combine (see sidecar.ts for why they make crashes harmless).
 */
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import {
  Codec, FormatError, RecordType, decodeSnapshotBody, decodeSnapshotFile, parseLog, parseMetaJson,
} from './sidecarFormat.js'

const brotli = promisify(zlib.brotliCompress)
const unbrotli = promisify(zlib.brotliDecompress)
const deflate = promisify(zlib.deflateRaw)
const inflate = promisify(zlib.inflateRaw)

/** Compresses a snapshot body off the main thread (zlib's thread pool). */
export async function pack(codec: Codec, raw: Buffer): Promise<Buffer> {
  if (codec === Codec.Brotli) return brotli(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 2, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length } })
  if (codec === Codec.Deflate) return deflate(raw, { level: 1 })
  return raw
}

export async function unpack(codec: number, packed: Buffer, rawLen: number): Promise<Buffer> {
  let raw: Buffer
  try {
    // maxOutputLength bounds memory if a damaged header claims an absurd size.
    if (codec === Codec.Brotli) raw = await unbrotli(packed, { maxOutputLength: Math.max(rawLen, 1) })
    else if (codec === Codec.Deflate) raw = await inflate(packed, { maxOutputLength: Math.max(rawLen, 1) })
    else if (codec === Codec.None) raw = packed
    else throw new FormatError(`snapshot uses unknown codec ${codec}`)
  } catch (e) {
    if (e instanceof FormatError) throw e
    throw new FormatError(`snapshot body does not decompress (${(e as Error).message})`)
  }
  if (raw.length !== rawLen) throw new FormatError(`snapshot body is ${raw.length} bytes, expected ${rawLen}`)
  return raw
}

export function checkName(found: string, doc: string): void {
  if (found !== doc) throw new FormatError(`file belongs to ${JSON.stringify(found)}`)
}

export interface DecodedDoc {
  loaded: { updates: Uint8Array[]; meta: Record<string, unknown>; bytes: number; warnings: string[] }
  /** Size and record count of the current log (0 for a leftover one), for compaction decisions. */
  logBytes: number
  records: number
}

/**
 * Turns a document's two files into its state, applying the generation rules: a log older than the
 * snapshot is a leftover of an interrupted compaction (its updates are replayed, its metas ignored); a log
 * newer than the snapshot builds on a snapshot that is gone (corruption).
 */
export async function decodeDocFiles(doc: string, logBuf: Buffer | null, snapBuf: Buffer | null): Promise<DecodedDoc> {
  const warnings: string[] = []
  let meta: Record<string, unknown> = {}
  const updates: Uint8Array[] = []
  let snapGen = -1
  if (snapBuf !== null) {
    const frame = decodeSnapshotFile(snapBuf)
    checkName(frame.header.docName, doc)
    const body = decodeSnapshotBody(await unpack(frame.codec, frame.packed, frame.rawLen))
    snapGen = frame.header.generation
    meta = body.meta
    if (body.update.length > 0) updates.push(body.update)
  }
  let logBytes = 0
  let records = 0
  if (logBuf !== null && logBuf.length === 0) {
    // Created, then killed before its header was written: it never held a record.
    warnings.push('ignored an empty log file: its creation was interrupted before anything was written to it')
  } else if (logBuf !== null) {
    const parsed = parseLog(logBuf)
    checkName(parsed.header.docName, doc)
    const gen = parsed.header.generation
    if (gen > Math.max(snapGen, 0)) {
      throw new FormatError(`log generation ${gen} builds on a snapshot that is missing (snapshot generation ${snapGen < 0 ? 'none' : snapGen})`)
    }
    const leftover = gen < snapGen
    if (leftover) warnings.push(`replayed a log left over from an interrupted compaction (generation ${gen} < ${snapGen})`)
    for (const r of parsed.records) {
      if (r.type === RecordType.Update) updates.push(r.payload)
      else if (!leftover) meta = parseMetaJson(r.payload, 'log')
    }
    if (parsed.torn) {
      warnings.push(`dropped a torn last log record (${parsed.torn.bytes} bytes at offset ${parsed.torn.offset}): the process stopped while appending it`)
    }
    if (!leftover) {
      logBytes = parsed.validEnd - parsed.header.end
      records = parsed.records.length
    }
  }
  const bytes = (logBuf?.length ?? 0) + (snapBuf?.length ?? 0)
  return { loaded: { updates, meta, bytes, warnings }, logBytes, records }
}

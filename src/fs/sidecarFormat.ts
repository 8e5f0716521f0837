/**
 * On-disk format of the sidecar store (pure encoding and decoding, no I/O).
 *
 * Every document has two files, both starting with the same kind of header:
 *
 *   header   = magic[4] | u16 version | u16 flags | u32 generation | u16 nameLen | name (UTF-8) | u32 crc32
 *              (crc32 covers every header byte before it; all integers little-endian)
 *
 *   log      = header("CXSL") | record*
 *   record   = u32 payloadLen | u8 type | payload | u32 crc32(payloadLen, type, payload)
 *              type 1 = UPDATE (a Yjs update), 2 = META (UTF-8 JSON; the latest one wins)
 *
 *   snapshot = header("CXSS", flags = codec) | u32 rawLen | u32 packedLen | u32 crc32(packed) | packed
 *              packed = codec(body), body = u32 metaLen | meta JSON | merged Yjs update
 *
 * The generation ties a log to the snapshot it extends: compaction writes snapshot g+1 and then a fresh
 * log g+1. A log older than the snapshot is leftover from a compaction cut short by a crash (see sidecar.ts).
 *
 * A record is written with one write() and synced, so a crash can only leave a prefix of the last record
 * (or, on some file systems, a zero-filled tail). That is a *torn tail*, reported and dropped. Anything else
 * that fails to decode is corruption: FormatError, which the store turns into SidecarCorruptError.
 */
import { crc32 } from 'node:zlib'

export const FORMAT_VERSION = 1
export const LOG_MAGIC = 'CXSL'
export const SNAP_MAGIC = 'CXSS'
export const RecordType = { Update: 1, Meta: 2 } as const
export type RecordType = (typeof RecordType)[keyof typeof RecordType]
/** Snapshot body codecs (kept in the header flags so a later version can switch without a format bump). */
export const Codec = { None: 0, Deflate: 1, Brotli: 2 } as const
export type Codec = (typeof Codec)[keyof typeof Codec]

/** Upper bound for one record; larger lengths can only come from corruption. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024
const RECORD_OVERHEAD = 9
const MAX_NAME_BYTES = 4096

export class FormatError extends Error {
  override readonly name = 'FormatError'
}

export interface FileHeader {
  magic: string
  version: number
  flags: number
  generation: number
  docName: string
  /** Offset of the first byte after the header. */
  end: number
}

export function encodeHeader(magic: string, generation: number, docName: string, flags = 0): Buffer {
  const name = Buffer.from(docName, 'utf8')
  if (name.length > MAX_NAME_BYTES) throw new RangeError(`document name too long (${name.length} bytes)`)
  const buf = Buffer.alloc(4 + 2 + 2 + 4 + 2 + name.length + 4)
  buf.write(magic, 0, 'latin1')
  buf.writeUInt16LE(FORMAT_VERSION, 4)
  buf.writeUInt16LE(flags, 6)
  buf.writeUInt32LE(generation >>> 0, 8)
  buf.writeUInt16LE(name.length, 12)
  name.copy(buf, 14)
  buf.writeUInt32LE(crc32(buf.subarray(0, 14 + name.length)), 14 + name.length)
  return buf
}

export function decodeHeader(buf: Uint8Array, magic: string, what: string): FileHeader {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (b.length < 4 || b.toString('latin1', 0, 4) !== magic) throw new FormatError(`${what} does not start with the ctxsync magic bytes`)
  if (b.length < 14) throw new FormatError(`${what} header is truncated`)
  const version = b.readUInt16LE(4)
  if (version !== FORMAT_VERSION) {
    throw new FormatError(`${what} has format version ${version}; this ctxsync reads version ${FORMAT_VERSION}`)
  }
  const nameLen = b.readUInt16LE(12)
  const end = 14 + nameLen + 4
  if (nameLen > MAX_NAME_BYTES || b.length < end) throw new FormatError(`${what} header is truncated`)
  if (b.readUInt32LE(14 + nameLen) !== crc32(b.subarray(0, 14 + nameLen))) {
    throw new FormatError(`${what} header checksum does not match`)
  }
  return {
    magic,
    version,
    flags: b.readUInt16LE(6),
    generation: b.readUInt32LE(8),
    docName: b.toString('utf8', 14, 14 + nameLen),
    end,
  }
}

export function encodeRecord(type: RecordType, payload: Uint8Array): Buffer {
  if (payload.length > MAX_RECORD_BYTES) throw new RangeError(`record too large (${payload.length} bytes)`)
  const buf = Buffer.alloc(RECORD_OVERHEAD + payload.length)
  buf.writeUInt32LE(payload.length, 0)
  buf.writeUInt8(type, 4)
  buf.set(payload, 5)
  buf.writeUInt32LE(crc32(buf.subarray(0, 5 + payload.length)), 5 + payload.length)
  return buf
}

export interface LogRecord {
  type: RecordType
  payload: Uint8Array
  offset: number
}

export interface ParsedLog {
  header: FileHeader
  records: LogRecord[]
  /** Offset just past the last intact record: where the next append goes. */
  validEnd: number
  /** Set when the bytes after validEnd are a torn last record (dropped, not corruption). */
  torn?: { offset: number; bytes: number }
}

type Probe = { ok: true; rec: LogRecord; end: number } | { ok: false; pastEnd: boolean; why: string }

function probeRecord(b: Buffer, off: number): Probe {
  if (b.length - off < RECORD_OVERHEAD) return { ok: false, pastEnd: true, why: 'record header is cut short' }
  const len = b.readUInt32LE(off)
  const type = b.readUInt8(off + 4)
  const end = off + RECORD_OVERHEAD + len
  if (len > MAX_RECORD_BYTES) return { ok: false, pastEnd: false, why: `record length ${len} is implausible` }
  if (end > b.length) return { ok: false, pastEnd: true, why: 'record runs past the end of the file' }
  if (b.readUInt32LE(end - 4) !== crc32(b.subarray(off, end - 4))) return { ok: false, pastEnd: false, why: 'record checksum does not match' }
  if (type !== RecordType.Update && type !== RecordType.Meta) return { ok: false, pastEnd: false, why: `unknown record type ${type}` }
  return { ok: true, rec: { type, payload: b.subarray(off + 5, end - 4), offset: off }, end }
}

/** True when some intact record starts anywhere in b[from..]: then a bad record before it is not a torn tail. */
function intactRecordAfter(b: Buffer, from: number): boolean {
  for (let off = from; off + RECORD_OVERHEAD <= b.length; off++) {
    const type = b[off + 4]
    if (type !== RecordType.Update && type !== RecordType.Meta) continue
    if (off + RECORD_OVERHEAD + b.readUInt32LE(off) > b.length) continue
    if (probeRecord(b, off).ok) return true
  }
  return false
}

function allZero(b: Buffer, from: number): boolean {
  for (let i = from; i < b.length; i++) if (b[i] !== 0) return false
  return true
}

export function parseLog(buf: Uint8Array): ParsedLog {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const header = decodeHeader(b, LOG_MAGIC, 'log')
  const records: LogRecord[] = []
  let off = header.end
  while (off < b.length) {
    const p = probeRecord(b, off)
    if (p.ok) {
      records.push(p.rec)
      off = p.end
      continue
    }
    // A crash mid-append leaves a prefix of one record (or zeros); a damaged length field in the middle of
    // the log looks the same at first sight, but then intact records follow it.
    const tornShape = p.pastEnd || allZero(b, off + 4)
    if (tornShape && !intactRecordAfter(b, off + 1)) {
      return { header, records, validEnd: off, torn: { offset: off, bytes: b.length - off } }
    }
    throw new FormatError(`log record at byte ${off}: ${p.why}`)
  }
  return { header, records, validEnd: off }
}

export interface SnapshotBody {
  meta: Record<string, unknown>
  update: Uint8Array
}

export function encodeSnapshotBody(body: SnapshotBody): Buffer {
  const meta = Buffer.from(JSON.stringify(body.meta), 'utf8')
  const out = Buffer.alloc(4 + meta.length + body.update.length)
  out.writeUInt32LE(meta.length, 0)
  meta.copy(out, 4)
  out.set(body.update, 4 + meta.length)
  return out
}

export function decodeSnapshotBody(raw: Buffer): SnapshotBody {
  if (raw.length < 4) throw new FormatError('snapshot body is truncated')
  const metaLen = raw.readUInt32LE(0)
  if (4 + metaLen > raw.length) throw new FormatError('snapshot meta runs past the body')
  return { meta: parseMetaJson(raw.subarray(4, 4 + metaLen), 'snapshot'), update: raw.subarray(4 + metaLen) }
}

/** Frames an already-packed snapshot body after its header. */
export function encodeSnapshotFile(generation: number, docName: string, codec: Codec, rawLen: number, packed: Uint8Array): Buffer {
  const header = encodeHeader(SNAP_MAGIC, generation, docName, codec)
  const frame = Buffer.alloc(12)
  frame.writeUInt32LE(rawLen, 0)
  frame.writeUInt32LE(packed.length, 4)
  frame.writeUInt32LE(crc32(packed), 8)
  return Buffer.concat([header, frame, packed])
}

export interface SnapshotFrame {
  header: FileHeader
  codec: number
  rawLen: number
  packed: Buffer
}

export function decodeSnapshotFile(buf: Uint8Array): SnapshotFrame {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const header = decodeHeader(b, SNAP_MAGIC, 'snapshot')
  if (b.length < header.end + 12) throw new FormatError('snapshot is truncated')
  const rawLen = b.readUInt32LE(header.end)
  const packedLen = b.readUInt32LE(header.end + 4)
  const packed = b.subarray(header.end + 12)
  if (packed.length !== packedLen) throw new FormatError(`snapshot body is ${packed.length} bytes, expected ${packedLen}`)
  if (b.readUInt32LE(header.end + 8) !== crc32(packed)) throw new FormatError('snapshot checksum does not match')
  return { header, codec: header.flags, rawLen, packed }
}

export function parseMetaJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch {
    throw new FormatError(`${what} meta is not valid JSON`)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FormatError(`${what} meta is not a JSON object`)
  return v as Record<string, unknown>
}

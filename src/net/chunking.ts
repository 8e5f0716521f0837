/**
 * Splitting of oversized messages into Chunk messages, and their bounded reassembly.
 *
 * Transports are ordered, so chunks of one message arrive in index order; the reassembler insists on it,
 * which keeps it simple and lets it refuse a hostile peer early. Memory is bounded twice: by the total size
 * of the messages being reassembled (together) and by how many are reassembled at once.
 */
import { CloseCode } from './TransportInterface.js'
import { encodeMessage, ProtocolError, type ChunkMessage } from './protocol.js'

/** Tag + three varUints (≤ 5 bytes each) + the length prefix of the payload (≤ 5 bytes). */
export const CHUNK_HEADER_BYTES = 1 + 5 * 4

export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024
export const DEFAULT_MAX_CONCURRENT_CHUNKED = 4

/** Encoded Chunk frames for `encoded`, each at most `maxFrame` bytes before sealing. */
export function splitIntoChunks(encoded: Uint8Array, maxFrame: number, id: number): Uint8Array[] {
  const payload = maxFrame - CHUNK_HEADER_BYTES
  if (payload < 1) throw new RangeError(`frame limit ${maxFrame} leaves no room for chunk payload`)
  const total = Math.ceil(encoded.length / payload)
  const frames: Uint8Array[] = []
  for (let index = 0; index < total; index++) {
    const bytes = encoded.subarray(index * payload, Math.min(encoded.length, (index + 1) * payload))
    frames.push(encodeMessage({ type: 'Chunk', id, index, total, bytes }))
  }
  return frames
}

interface PendingMessage {
  total: number
  parts: Uint8Array[]
  bytes: number
}

export interface ReassemblerLimits {
  maxMessageBytes: number
  maxConcurrent: number
}

export class Reassembler {
  readonly #pending = new Map<number, PendingMessage>()
  readonly #limits: ReassemblerLimits

  constructor(limits: Partial<ReassemblerLimits> = {}) {
    this.#limits = {
      maxMessageBytes: limits.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      maxConcurrent: limits.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_CHUNKED,
    }
  }

  /** Bytes currently held for incomplete messages. */
  get bufferedBytes(): number {
    let n = 0
    for (const p of this.#pending.values()) n += p.bytes
    return n
  }

  /** Adds a chunk; returns the whole encoded message when this was its last chunk. */
  push(c: ChunkMessage): Uint8Array | null {
    let p = this.#pending.get(c.id)
    if (!p) {
      if (c.index !== 0) throw new ProtocolError(`chunk ${c.index} of unknown message ${c.id}`)
      if (this.#pending.size >= this.#limits.maxConcurrent) {
        throw new ProtocolError('too many chunked messages in flight', CloseCode.Policy)
      }
      p = { total: c.total, parts: [], bytes: 0 }
      this.#pending.set(c.id, p)
    } else if (c.total !== p.total || c.index !== p.parts.length) {
      throw new ProtocolError(`chunk ${c.index}/${c.total} out of order for message ${c.id}`)
    }
    p.bytes += c.bytes.length
    // The bound is on everything held, not on each message: chunked messages in flight at once must not
    // multiply it (an authenticated peer could otherwise make a relay hold maxConcurrent × the limit).
    if (this.bufferedBytes > this.#limits.maxMessageBytes) {
      throw new ProtocolError(
        `chunked message exceeds ${this.#limits.maxMessageBytes} bytes (with those in flight)`,
        CloseCode.TooBig,
      )
    }
    p.parts.push(c.bytes)
    if (p.parts.length < p.total) return null
    this.#pending.delete(c.id)
    const out = new Uint8Array(p.bytes)
    let offset = 0
    for (const part of p.parts) {
      out.set(part, offset)
      offset += part.length
    }
    return out
  }
}

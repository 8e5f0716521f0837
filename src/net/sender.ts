/**
 * The outgoing half of a session: encode, chunk below the smaller of both frame limits, seal, and hand to
 * the transport without buffering beyond bounds.
 *
 * Frames go straight to the transport while its `bufferedAmount` is under the high-water mark; beyond it
 * they wait in an outbox, and a message offered while more than `maxQueuedBytes` wait behind the one being
 * drained marks the peer as too slow (ProtocolError 1008): we drop it rather than grow without limit. A `producer` (the initial sync) is only asked for more while
 * there is room, so large syncs are generated at the pace the peer reads them. Transports have no portable
 * drain event, so a blocked sender polls every few milliseconds until it is empty.
 */
import { splitIntoChunks } from './chunking.js'
import { plaintext, type FrameCipher } from './channel.js'
import { encodeMessage, ProtocolError, type Message } from './protocol.js'
import { CloseCode, type Transport } from './TransportInterface.js'

const POLL_MS = 10

export interface SenderOptions {
  maxFrameBytes: number
  maxMessageBytes: number
  highWaterBytes: number
  maxQueuedBytes: number
  onProgress(): void
  onError(err: unknown): void
}

export interface Producer {
  readonly hasWork: boolean
  produce(): void
}

/** The frames of one message still waiting; `next` indexes the first unsent one. */
interface Queued {
  frames: Uint8Array[]
  next: number
  bytes: number
}

export class FrameSender {
  cipher: FrameCipher = plaintext
  /** The other side's frame limit, from its Hello. */
  peerMaxFrameBytes: number | undefined
  producer: Producer | undefined
  bytesSent = 0
  readonly #t: Transport
  readonly #o: SenderOptions
  #outbox: Queued[] = []
  #outboxBytes = 0
  #chunkId = 0
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(t: Transport, opts: SenderOptions) {
    this.#t = t
    this.#o = opts
  }

  get idle(): boolean {
    return this.#outbox.length === 0
  }

  /**
   * Queues one message (chunked when needed). Throws ProtocolError when it cannot be sent at all. `encoded`
   * is the message already encoded, when a caller shares one encoding between many sessions.
   */
  send(msg: Message, encoded: Uint8Array = encodeMessage(msg)): void {
    if (this.#stopped) return
    // The message at the head is being drained and does not count: one large message (a big document's
    // chunks) may always be in flight, so memory stays within maxQueuedBytes plus one message.
    if (this.#outboxBytes - (this.#outbox[0]?.bytes ?? 0) > this.#o.maxQueuedBytes) {
      this.stop()
      throw new ProtocolError('peer too slow: send queue limit reached', CloseCode.Policy)
    }
    if (encoded.length > this.#o.maxMessageBytes) {
      throw new ProtocolError(`${msg.type} of ${encoded.length} bytes exceeds the message limit`, CloseCode.TooBig)
    }
    const limit = Math.min(this.#o.maxFrameBytes, this.peerMaxFrameBytes ?? this.#o.maxFrameBytes) - this.cipher.overhead
    const frames = encoded.length <= limit ? [encoded] : splitIntoChunks(encoded, limit, this.#chunkId++)
    // Sealed now, in order: the GCM counters must follow the order frames reach the wire.
    this.#enqueue(frames.map((f) => this.cipher.seal(f)))
  }

  /** Sends at once, but only if that overtakes nothing (a sealed frame out of order would be refused). */
  sendIfIdle(msg: Message): void {
    if (this.#stopped || !this.idle) return
    this.#wire(this.cipher.seal(encodeMessage(msg)))
  }

  /** Flushes the outbox, then lets the producer add more while there is room. */
  pump(): void {
    try {
      while (!this.#stopped && this.#outbox.length > 0 && this.#t.bufferedAmount < this.#o.highWaterBytes) {
        const head = this.#outbox[0]!
        const frame = head.frames[head.next++]!
        head.bytes -= frame.length
        this.#outboxBytes -= frame.length
        if (head.next === head.frames.length) this.#outbox.shift()
        this.#wire(frame)
      }
      while (!this.#stopped && this.producer?.hasWork && this.#hasRoom()) this.producer.produce()
      if (this.#outbox.length > 0 || this.producer?.hasWork) this.#schedule()
    } catch (err) {
      this.#o.onError(err)
    }
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#outbox = []
    this.#outboxBytes = 0
  }

  #hasRoom(): boolean {
    return this.#outboxBytes + this.#t.bufferedAmount < this.#o.highWaterBytes
  }

  #enqueue(frames: Uint8Array[]): void {
    let i = 0
    if (this.#outbox.length === 0) {
      while (i < frames.length && this.#t.bufferedAmount < this.#o.highWaterBytes) this.#wire(frames[i++]!)
    }
    if (i === frames.length) return
    const rest = frames.slice(i)
    const bytes = rest.reduce((n, f) => n + f.length, 0)
    this.#outbox.push({ frames: rest, next: 0, bytes })
    this.#outboxBytes += bytes
    this.#schedule()
  }

  #wire(frame: Uint8Array): void {
    this.#t.send(frame)
    this.bytesSent += frame.length
    this.#o.onProgress()
  }

  #schedule(): void {
    if (this.#timer || this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.pump()
    }, POLL_MS)
  }
}

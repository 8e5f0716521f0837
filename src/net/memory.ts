/**
 * Deterministic in-memory transports (after automerge-repo's DummyNetworkAdapter): two connected ends that
 * honour the Transport contract without sockets. Delivery is asynchronous (setImmediate) and strictly FIFO
 * per direction, so handlers never re-enter each other and a run is reproducible. A close travels behind
 * the frames sent before it, as on a real socket.
 *
 * `pause()` stops delivery to one end, which makes the other end's `bufferedAmount` grow: that is how
 * tests play a slow consumer.
 */
import { TypedEmitter } from './emitter.js'
import { CloseCode, type Transport, type TransportEvents } from './TransportInterface.js'

type Item = { frame: Uint8Array } | { close: { code: number; reason: string } }

let pairCounter = 0

export interface MemoryPairOptions {
  /** Frames above this close the pair with 1009, like a WebSocket's maxPayload. */
  maxFrameBytes?: number
}

export class MemoryTransport extends TypedEmitter<TransportEvents> implements Transport {
  readonly remote: string
  peer!: MemoryTransport
  #inbox: Item[] = []
  #inboxBytes = 0
  #scheduled = false
  #paused = false
  #closeEmitted = false
  #link: { closed: boolean; maxFrameBytes: number }

  constructor(remote: string, link: { closed: boolean; maxFrameBytes: number }) {
    super()
    this.remote = remote
    this.#link = link
  }

  get open(): boolean {
    return !this.#link.closed
  }

  /** Bytes sent by this end that the other end has not been handed yet. */
  get bufferedAmount(): number {
    return this.peer.#inboxBytes
  }

  send(frame: Uint8Array): void {
    if (this.#link.closed) return
    if (frame.length > this.#link.maxFrameBytes) {
      this.close(CloseCode.TooBig, `frame of ${frame.length} bytes exceeds ${this.#link.maxFrameBytes}`)
      return
    }
    this.peer.#enqueue({ frame: frame.slice() })
  }

  close(code: number, reason: string): void {
    if (this.#link.closed) return
    this.#link.closed = true
    this.peer.#enqueue({ close: { code, reason } })
    this.#enqueue({ close: { code, reason } })
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    this.#paused = false
    this.#schedule()
  }

  #enqueue(item: Item): void {
    this.#inbox.push(item)
    if ('frame' in item) this.#inboxBytes += item.frame.length
    this.#schedule()
  }

  #schedule(): void {
    if (this.#scheduled || this.#paused) return
    this.#scheduled = true
    setImmediate(() => this.#drain())
  }

  #drain(): void {
    this.#scheduled = false
    while (!this.#paused && this.#inbox.length > 0) {
      const item = this.#inbox.shift()!
      if ('frame' in item) {
        this.#inboxBytes -= item.frame.length
        if (!this.#closeEmitted) this.emit('message', item.frame)
      } else if (!this.#closeEmitted) {
        this.#closeEmitted = true
        this.#inbox = []
        this.#inboxBytes = 0
        this.emit('close', item.close.code, item.close.reason)
      }
    }
  }
}

/** Two connected in-memory transports: what one sends, the other receives. */
export function createConnectedPair(opts: MemoryPairOptions = {}): [MemoryTransport, MemoryTransport] {
  const n = ++pairCounter
  const link = { closed: false, maxFrameBytes: opts.maxFrameBytes ?? Number.POSITIVE_INFINITY }
  const a = new MemoryTransport(`memory:${n}b`, link)
  const b = new MemoryTransport(`memory:${n}a`, link)
  a.peer = b
  b.peer = a
  return [a, b]
}

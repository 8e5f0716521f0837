/**
 * WsTransport: one WebSocket (`ws`) as a Transport — the connection half of `ws.ts`, which listens and dials.
 *
 * Binary frames only (a text frame closes with 1003), `maxPayload` enforced by ws itself (1009), no
 * compression (frames are encrypted peer to peer, so it would not help). Both ends ping every
 * `heartbeatMs`; a peer that misses two pongs in a row is cut off and reported as 4408, so dead peers drop
 * out instead of hanging. During a large transfer a ping waits behind megabytes of data for the other side
 * to work through, so more than pongs counts as a sign of life: any frame from the peer, and the peer taking
 * our data (bytes leaving our buffers since the last beat), and its pings; while we ourselves have stopped
 * reading (back-pressure, throttle) we cannot see pongs, so we do not count them missed, but still ping,
 * which tells the other side that we are alive. Reading can be paused by the reader (back-pressure) and by a `throttle` (the
 * relay's per-connection rate limit). Frames sent during one turn of the event loop leave in one write.
 * Nothing here throws out of a socket callback: errors become closes.
 */
import { WebSocket, type RawData } from 'ws'
import { logger } from '../debuglog.js'
import { TypedEmitter } from './emitter.js'
import { CloseCode, type Transport, type TransportEvents } from './TransportInterface.js'

const log = logger('net:ws')

const UNSUPPORTED_DATA = 1003
/** Reported (never sent) when the connection broke without a close frame. */
const ABNORMAL_CLOSURE = 1006
/** How long a graceful close may wait for the other side's close frame before the socket is cut. */
const CLOSE_GRACE_MS = 2000
/** Frames that arrive before anyone listens are held, up to this many. */
const MAX_EARLY_FRAMES = 64

function truncateReason(reason: string): string {
  // A close frame holds at most 123 bytes of reason.
  let out = reason
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1)
  return out
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

/** Asked after each frame received: how long to stop reading the socket (0: go on). */
export interface Throttle {
  take(bytes: number): number
}

export interface WsTransportOptions {
  throttle?: Throttle
  /** Called once when the session over it authenticates (the listener's admission, `admission.ts`). */
  onAdmitted?: () => void
}

export class WsTransport extends TypedEmitter<TransportEvents> implements Transport {
  readonly remote: string
  /** Payload bytes received and sent (WebSocket framing excluded). */
  bytesIn = 0
  bytesOut = 0
  readonly #ws: WebSocket
  readonly #throttle: Throttle | undefined
  #onAdmitted: (() => void) | undefined
  /** Why reading is paused: the rate limit, the reader (back-pressure), or both. */
  readonly #pausedBy = new Set<'throttle' | 'reader'>()
  #pausedUntil = 0
  #resumeTimer: NodeJS.Timeout | undefined
  #closeIntent: { code: number; reason: string } | undefined
  #closed = false
  #missedPongs = 0
  /** Bytes the peer had taken off our hands at the last heartbeat. */
  #drainedAtBeat = 0
  #heartbeat: NodeJS.Timeout | undefined
  #graceTimer: NodeJS.Timeout | undefined
  #early: Uint8Array[] | undefined = []
  #flushing = false

  constructor(ws: WebSocket, remote: string, heartbeatMs: number, opts: WsTransportOptions = {}) {
    super()
    this.#ws = ws
    this.remote = remote
    this.#throttle = opts.throttle
    this.#onAdmitted = opts.onAdmitted
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary))
    ws.on('pong', () => {
      this.#missedPongs = 0
    })
    // The other side pings while it has stopped reading us (see #beat): it is alive, only busy.
    ws.on('ping', () => {
      this.#missedPongs = 0
    })
    ws.on('error', (err: Error & { code?: string }) => {
      log('%s: socket error %s', remote, err.message)
      // ws closes the socket itself after an error; this only decides what the close reports.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.#closeIntent ??= { code: CloseCode.TooBig, reason: 'frame exceeds the size limit' }
      } else if (err.code?.startsWith('WS_ERR_')) {
        this.#closeIntent ??= { code: CloseCode.ProtocolError, reason: err.message }
      } else {
        this.#closeIntent ??= { code: ABNORMAL_CLOSURE, reason: err.message }
      }
    })
    ws.on('close', (code, reason) => this.#finish(code, reason.toString()))
    if (heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => this.#beat(), heartbeatMs)
      this.#heartbeat.unref()
    }
  }

  get open(): boolean {
    return !this.#closed && this.#closeIntent === undefined && this.#ws.readyState === WebSocket.OPEN
  }

  /** What waits for the network: bytes corked during this turn leave at its end and do not count. */
  get bufferedAmount(): number {
    return Math.max(0, this.#ws.bufferedAmount - this.#corkedBytes)
  }

  override on<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): this {
    super.on(event, listener)
    if (event === 'message' && this.#early && !this.#flushing) {
      // Flushed on a later tick so the caller finishes wiring up (and sends its Hello) first; frames that
      // arrive meanwhile join the queue, so order holds.
      this.#flushing = true
      setImmediate(() => {
        const early = this.#early ?? []
        this.#early = undefined
        for (const f of early) if (!this.#closed) this.emit('message', f)
      })
    }
    return this
  }

  send(frame: Uint8Array): void {
    if (!this.open) return
    this.bytesOut += frame.length
    this.#cork()
    if (this.#isCorked) this.#corkedBytes += frame.length
    // No callback: a failed write surfaces as the socket's error and close, which end the session anyway.
    this.#ws.send(frame, { binary: true })
  }

  // Frames sent to one socket during one turn of the event loop leave in one write (one syscall) instead of
  // one each: the socket is corked on the first send and uncorked right after the I/O phase (setImmediate),
  // which adds no delay. A relay relaying many updates to a peer at once, or an initial sync, gains most.
  static readonly #corked = new Set<WsTransport>()
  static #flushScheduled = false
  #isCorked = false
  #corkedBytes = 0

  #cork(): void {
    // ws keeps its socket on an underscored field; without it (tests' fakes) frames simply go one by one.
    const socket = (this.#ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket
    if (this.#isCorked || !socket) return
    socket.cork()
    this.#isCorked = true
    WsTransport.#corked.add(this)
    if (!WsTransport.#flushScheduled) {
      WsTransport.#flushScheduled = true
      setImmediate(WsTransport.#flush)
    }
  }

  static #flush = (): void => {
    WsTransport.#flushScheduled = false
    for (const t of WsTransport.#corked) {
      t.#isCorked = false
      t.#corkedBytes = 0
      ;(t.#ws as unknown as { _socket?: { uncork(): void } })._socket?.uncork()
    }
    WsTransport.#corked.clear()
  }

  admitted(): void {
    const f = this.#onAdmitted
    this.#onAdmitted = undefined
    f?.()
  }

  pause(): void {
    this.#hold('reader')
  }

  resume(): void {
    this.#release('reader')
  }

  #hold(why: 'throttle' | 'reader'): void {
    if (this.#pausedBy.size === 0 && !this.#closed) this.#ws.pause()
    this.#pausedBy.add(why)
  }

  #release(why: 'throttle' | 'reader'): void {
    if (!this.#pausedBy.delete(why) || this.#pausedBy.size > 0 || this.#closed) return
    this.#ws.resume()
  }

  close(code: number, reason: string): void {
    if (this.#closed || this.#closeIntent) return
    this.#closeIntent = { code, reason }
    try {
      this.#ws.close(code, truncateReason(reason))
    } catch (err) {
      log('%s: close(%d) refused by ws: %s', this.remote, code, (err as Error).message)
      this.#ws.terminate()
    }
    this.#graceTimer = setTimeout(() => this.#ws.terminate(), CLOSE_GRACE_MS)
    this.#graceTimer.unref()
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closed || this.#closeIntent) return
    if (!isBinary) {
      this.close(UNSUPPORTED_DATA, 'ctxsync speaks binary frames only')
      return
    }
    const frame = toBytes(data)
    this.bytesIn += frame.length
    this.#missedPongs = 0
    if (this.#throttle) this.#slowDown(this.#throttle.take(frame.length))
    if (this.#early) {
      if (this.#early.length >= MAX_EARLY_FRAMES) this.close(CloseCode.Policy, 'too many frames before handshake')
      else this.#early.push(frame)
      return
    }
    this.emit('message', frame)
  }

  /** Stops reading the socket for `waitMs` (frames already read still arrive; TCP holds the rest). */
  #slowDown(waitMs: number): void {
    if (waitMs <= 0) return
    const until = Date.now() + waitMs
    if (until <= this.#pausedUntil) return
    this.#pausedUntil = until
    this.#hold('throttle')
    clearTimeout(this.#resumeTimer)
    this.#resumeTimer = setTimeout(() => {
      this.#pausedUntil = 0
      this.#release('throttle')
    }, waitMs)
    this.#resumeTimer.unref()
  }

  #beat(): void {
    if (this.#closed) return
    if (this.#pausedBy.size > 0) {
      // Not reading, we cannot see pongs; but our ping tells the other side that we are alive and working
      // through what it sent. Otherwise a sender whose data all sits in the socket buffers sees no sign of
      // life for as long as we take, and cuts off a slow but healthy receiver (a relay taking in 10 MB).
      this.#ping()
      return
    }
    const drained = this.bytesOut - this.#ws.bufferedAmount
    if (drained > this.#drainedAtBeat) this.#missedPongs = 0
    this.#drainedAtBeat = drained
    if (this.#missedPongs >= 2) {
      log('%s: missed %d pongs, dropping', this.remote, this.#missedPongs)
      this.#closeIntent ??= { code: CloseCode.HeartbeatTimeout, reason: 'peer stopped answering heartbeats' }
      this.#ws.terminate()
      return
    }
    this.#missedPongs++
    this.#ping()
  }

  #ping(): void {
    try {
      this.#ws.ping()
    } catch {
      // Not open yet or already closing: the close event settles it.
    }
  }

  #finish(code: number, reason: string): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#heartbeat)
    clearTimeout(this.#resumeTimer)
    clearTimeout(this.#graceTimer)
    const final = this.#closeIntent ?? { code, reason }
    log('%s: closed %d %s', this.remote, final.code, final.reason)
    this.emit('close', final.code, final.reason)
    this.removeAllListeners()
  }
}

/**
 * The WebSocket transport (`ws`): a listener for incoming peers and a dialer for outgoing ones.
 *
 * Binary frames only (a text frame closes with 1003), `maxPayload` enforced by ws itself (1009), no
 * compression (frames are encrypted, so it would not help). Both ends ping every `heartbeatMs`; a peer that
 * misses two pongs in a row is cut off and reported as 4408, so dead peers drop out instead of hanging.
 * Nothing here throws out of a socket callback: errors become closes.
 */
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import { CtxError } from '../errors.js'
import { logger } from '../log.js'
import { DEFAULT_MAX_FRAME_BYTES } from './chunking.js'
import { TypedEmitter } from './emitter.js'
import {
  CloseCode,
  type DialOptions,
  type Dialer,
  type Listener,
  type Transport,
  type TransportEvents,
} from './TransportInterface.js'

const log = logger('net:ws')

export const DEFAULT_HEARTBEAT_MS = 5000
const UNSUPPORTED_DATA = 1003
const INTERNAL_ERROR = 1011
/** Reported (never sent) when the connection broke without a close frame. */
const ABNORMAL_CLOSURE = 1006
/** How long a graceful close may wait for the other side's close frame before the socket is cut. */
const CLOSE_GRACE_MS = 2000
/** Frames that arrive before anyone listens are held, up to this many. */
const MAX_EARLY_FRAMES = 64

export interface WsOptions {
  maxFrameBytes?: number
  heartbeatMs?: number
}

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

export class WsTransport extends TypedEmitter<TransportEvents> implements Transport {
  readonly remote: string
  readonly #ws: WebSocket
  #closeIntent: { code: number; reason: string } | undefined
  #closed = false
  #missedPongs = 0
  #heartbeat: NodeJS.Timeout | undefined
  #graceTimer: NodeJS.Timeout | undefined
  #early: Uint8Array[] | undefined = []
  #flushing = false

  constructor(ws: WebSocket, remote: string, heartbeatMs: number) {
    super()
    this.#ws = ws
    this.remote = remote
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary))
    ws.on('pong', () => {
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

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount
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
    this.#ws.send(frame, { binary: true }, (err) => {
      if (err) log('%s: send failed: %s', this.remote, err.message)
    })
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
    if (this.#early) {
      if (this.#early.length >= MAX_EARLY_FRAMES) this.close(CloseCode.Policy, 'too many frames before handshake')
      else this.#early.push(frame)
      return
    }
    this.emit('message', frame)
  }

  #beat(): void {
    if (this.#closed) return
    if (this.#missedPongs >= 2) {
      log('%s: missed %d pongs, dropping', this.remote, this.#missedPongs)
      this.#closeIntent ??= { code: CloseCode.HeartbeatTimeout, reason: 'peer stopped answering heartbeats' }
      this.#ws.terminate()
      return
    }
    this.#missedPongs++
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
    clearTimeout(this.#graceTimer)
    const final = this.#closeIntent ?? { code, reason }
    log('%s: closed %d %s', this.remote, final.code, final.reason)
    this.emit('close', final.code, final.reason)
    this.removeAllListeners()
  }
}

export interface ListenOptions extends WsOptions {
  host: string
  port: number
}

function formatUrl(host: string, port: number): string {
  return host.includes(':') ? `ws://[${host}]:${port}` : `ws://${host}:${port}`
}

/** Starts a WebSocket listener; port 0 picks a free port (see `url`/`port`). */
export async function listen(opts: ListenOptions): Promise<Listener> {
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  const wss = new WebSocketServer({
    host: opts.host,
    port: opts.port,
    maxPayload: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    perMessageDeflate: false,
  })
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve)
    wss.once('error', (err: Error) =>
      reject(new CtxError('listen-failed', `cannot listen on ${opts.host}:${opts.port}: ${err.message}`)),
    )
  })
  wss.on('error', (err) => log('listener error: %s', err.message))
  const address = wss.address()
  const port = typeof address === 'object' && address ? address.port : opts.port
  const callbacks: Array<(t: Transport) => void> = []
  const live = new Set<WsTransport>()

  wss.on('connection', (ws, req) => {
    const remote = formatUrl(req.socket.remoteAddress ?? 'unknown', req.socket.remotePort ?? 0)
    const t = new WsTransport(ws, remote, heartbeatMs)
    live.add(t)
    t.on('close', () => live.delete(t))
    if (callbacks.length === 0) t.close(CloseCode.GoingAway, 'not accepting peers')
    for (const cb of callbacks) {
      try {
        cb(t)
      } catch (err) {
        log('connection callback threw: %O', err)
        t.close(INTERNAL_ERROR, 'internal error')
      }
    }
  })

  return {
    url: formatUrl(opts.host, port),
    port,
    onConnection: (cb) => void callbacks.push(cb),
    close: async () => {
      for (const t of live) t.close(CloseCode.GoingAway, 'listener shutting down')
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}

/** Dials peers over WebSocket; `ws://` and `wss://` URLs only. */
export function wsDialer(opts: WsOptions = {}): Dialer {
  const maxPayload = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  return {
    dial: (url: string, dialOpts: DialOptions) =>
      new Promise<Transport>((resolve, reject) => {
        if (!/^wss?:\/\//i.test(url)) {
          reject(new CtxError('bad-peer-url', `not a WebSocket URL: ${url} (expected ws://host:port)`))
          return
        }
        let ws: WebSocket
        try {
          ws = new WebSocket(url, { maxPayload, perMessageDeflate: false, handshakeTimeout: dialOpts.timeoutMs })
        } catch (err) {
          reject(new CtxError('bad-peer-url', `cannot dial ${url}: ${(err as Error).message}`))
          return
        }
        let settled = false
        const fail = (message: string): void => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          ws.terminate()
          reject(new CtxError('unreachable', `cannot reach ${url}: ${message}`))
        }
        const timer = setTimeout(() => fail(`no answer within ${dialOpts.timeoutMs} ms`), dialOpts.timeoutMs)
        ws.on('error', (err: Error & { code?: string }) => fail(err.code ?? err.message))
        ws.on('unexpected-response', (_req, res) => fail(`HTTP ${res.statusCode}`))
        ws.on('close', (code) => fail(`closed (${code}) during the handshake`))
        ws.once('open', () => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          ws.removeAllListeners('error')
          ws.removeAllListeners('close')
          ws.removeAllListeners('unexpected-response')
          resolve(new WsTransport(ws, url, heartbeatMs))
        })
      }),
  }
}

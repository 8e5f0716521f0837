/**
 * The WebSocket transport (`ws`): a listener for incoming peers and a dialer for outgoing ones, both
 * handing out `WsTransport`s (`ws-transport.ts`: frames, heartbeats, back-pressure, throttling).
 */
import http from 'node:http'
import { WebSocket, WebSocketServer } from 'ws'
import { CtxError } from '../errors.js'
import { logger } from '../debuglog.js'
import { Admission, type AdmissionLimits } from './admission.js'
import { DEFAULT_MAX_FRAME_BYTES } from './chunking.js'
import { CloseCode, type DialOptions, type Dialer, type Listener, type Transport } from './TransportInterface.js'
import { WsTransport } from './ws-transport.js'

export { WsTransport, type Throttle, type WsTransportOptions } from './ws-transport.js'

const log = logger('net:ws')

export const DEFAULT_HEARTBEAT_MS = 5000
const INTERNAL_ERROR = 1011

export interface WsOptions {
  maxFrameBytes?: number
  heartbeatMs?: number
}
export interface ListenOptions extends WsOptions {
  host: string
  port: number
  /** Bounds on connections, strangers' above all (`admission.ts`); sane defaults. */
  limits?: Partial<AdmissionLimits>
}

function formatUrl(host: string, port: number): string {
  return host.includes(':') ? `ws://[${host}]:${port}` : `ws://${host}:${port}`
}

/**
 * Starts a WebSocket listener; port 0 picks a free port (see `url`/`port`). Every TCP connection goes
 * through `Admission` first, and counts as a stranger's until its session authenticates.
 */
export async function listen(opts: ListenOptions): Promise<Listener> {
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  const admission = new Admission(opts.limits)
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8' })
    res.end('ctxsync peer: connect with a WebSocket\n')
  })
  server.on('connection', (socket) => void admission.accept(socket))
  const wss = new WebSocketServer({
    server,
    maxPayload: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    perMessageDeflate: false,
  })
  // Before listening: the WebSocketServer re-emits the server's errors, and a listen failure (a port in use)
  // with no handler of its own crashed the daemon with a stack trace instead of the message below (CI).
  wss.on('error', (err) => log('listener error: %s', err.message))
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: Error & { code?: string }) => {
      const e = new CtxError('listen-failed', `cannot listen on ${opts.host}:${opts.port}: ${err.message}`)
      reject(Object.assign(e, { errno: err.code }))
    })
    server.listen(opts.port, opts.host, () => resolve())
  })
  server.on('error', (err) => log('listener error: %s', err.message))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : opts.port
  const callbacks: Array<(t: Transport) => void> = []
  const live = new Set<WsTransport>()

  wss.on('connection', (ws, req) => {
    const remote = formatUrl(req.socket.remoteAddress ?? 'unknown', req.socket.remotePort ?? 0)
    const t = new WsTransport(ws, remote, heartbeatMs, { onAdmitted: () => admission.trust(req.socket) })
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
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
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

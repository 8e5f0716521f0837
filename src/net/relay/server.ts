/**
 * RelayServer: `ctxsync serve` — one process serving many spaces over WebSocket, with `GET /healthz` and
 * `GET /metrics` on the same port (TLS when given a certificate: then `wss://`/`https://`).
 *
 * Each connection is a `PeerSession` whose handshake is the relay's (`gate.ts`): the dialer's Hello names
 * its space, its proof of the secret (or its token) is checked against the space's registered public key,
 * and only then is the space loaded (`space.ts`: in-memory Y.Docs over the space's store under
 * `--data/<spaceId>/`) and the session attached to it. A space with no peer left is written out and
 * dropped from memory after `idleUnloadMs`, so a relay of many quiet spaces stays small.
 *
 * Protecting the many from the one: every TCP connection passes `Admission` (`../admission.ts`: strangers
 * bounded in number, globally and per address, and in time until they authenticate; all connections below
 * the descriptor limit); a space holds at most `maxSessionsPerSpace` sessions (1013 beyond), so a flood of
 * one space leaves room for the others; new spaces are bounded in rate per address and in total, and
 * spaces nobody comes back to expire (`registration.ts`, `expiry.ts`, swept every `sweepMs`). Frames
 * over `maxFrameBytes` close the connection (1009, enforced by ws before any parsing); each connection
 * is rate-limited on its own (`throttle.ts`: over its rate, its socket is simply not read for a while);
 * every session's outbox is bounded, so a peer that reads too slowly is closed with 1008 rather than
 * buffered without end, and relaying to it never waits. `/healthz` says `degraded` and names the spaces
 * whose store failed (to load, or an append) until they load again.
 *
 * Stopping (SIGINT/SIGTERM in `ctxsync serve`): stop accepting, close every session with 1001, wait for
 * every append to reach the disk, close the stores.
 */
import http from 'node:http'
import https from 'node:https'
import os from 'node:os'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type * as Y from 'yjs'
import { CtxError } from '../../errors.js'
import type { SpaceId } from '../../ids.js'
import { logger } from '../../debuglog.js'
import { PROTOCOL_VERSION } from '../protocol.js'
import { PeerSession, type SessionTuning } from '../session.js'
import type { PeerInfo } from '../SyncHost.js'
import { atMost, atTime } from '../timers.js'
import { CloseCode } from '../TransportInterface.js'
import { DEFAULT_HEARTBEAT_MS, WsTransport } from '../ws.js'
import { Admission, addressKey, type AdmissionLimits } from '../admission.js'
import { Registry, RelayHandshake, type GateContext } from './gate.js'
import { signingKeyFromSeed, type SigningKey } from '../relay-auth.js'
import { RelayMetrics } from './metrics.js'
import { SpaceExpiry } from './expiry.js'
import { RegistrationGuard, type RegistrationLimits } from './registration.js'
import { RelaySpace, type DocGuard } from './space.js'
import type { RelayStorage } from './storage.js'
import { connectionThrottle, DEFAULT_RATE_LIMIT, type RateLimit } from './throttle.js'

const log = logger('relay')
const STOP_GRACE_MS = 3000

export interface RelayServerOptions {
  host: string
  port: number
  storage: RelayStorage
  tls?: { cert: string | Buffer; key: string | Buffer }
  /** Largest frame accepted (1009 beyond); peers chunk larger messages below it. */
  maxFrameBytes?: number
  rate?: Partial<RateLimit>
  heartbeatMs?: number
  /** A space whose last peer left is dropped from memory after this long. */
  idleUnloadMs?: number
  maxDocsPerSpace?: number
  /** Session knobs (queue limits, timeouts). */
  session?: Partial<SessionTuning>
  /** Run after each transaction of every document held in memory (see `RelaySpaceOptions`). */
  afterTransaction?: (tr: Y.Transaction) => void
  /** Connection bounds (`admission.ts`); defaults follow the descriptor limit. */
  limits?: Partial<AdmissionLimits>
  maxSessionsPerSpace?: number
  /** New spaces: rate per address, total, expiry (`registration.ts`). */
  registration?: Partial<RegistrationLimits>
  /** How often expired spaces are looked for (and once at start). */
  sweepMs?: number
  /** Checks of updates and stored states (see `RelaySpaceOptions.guard`). */
  guard?: DocGuard
}

export const RELAY_DEFAULTS = {
  maxFrameBytes: 1024 * 1024,
  idleUnloadMs: 60_000,
  maxDocsPerSpace: 10_000,
  maxSessionsPerSpace: 256,
  sweepMs: 3600_000,
  session: {
    highWaterBytes: 256 * 1024,
    maxQueuedBytes: 8 * 1024 * 1024,
    maxMessageBytes: 64 * 1024 * 1024,
  } satisfies Partial<SessionTuning>,
}

interface Slot {
  loading: Promise<RelaySpace>
  space?: RelaySpace
  idle?: NodeJS.Timeout
  closing?: Promise<void>
}

export class RelayServer {
  readonly url: string
  readonly port: number
  readonly metrics: RelayMetrics
  readonly self: PeerInfo
  readonly #o: RelayServerOptions
  readonly #server: http.Server
  readonly #wss: WebSocketServer
  readonly #gate: GateContext
  readonly #transports = new Set<WsTransport>()
  readonly #sessions = new Set<PeerSession>()
  readonly #spaces = new Map<SpaceId, Slot>()
  readonly #closedBytes = { in: 0, out: 0 }
  readonly #admission: Admission
  readonly #registration: RegistrationGuard
  readonly #expiry: SpaceExpiry
  /** Spaces whose store failed (to load, or an append), for /healthz; cleared by a good load. */
  readonly #failedSpaces = new Map<SpaceId, { error: string; at: string }>()
  #sweepTimer: NodeJS.Timeout | undefined
  #stopping: Promise<void> | undefined

  /** The relay's identity key, which spaces pin (`registry-key`). */
  readonly publicKey: Uint8Array

  private constructor(o: RelayServerOptions, server: http.Server, self: PeerInfo, identity: SigningKey, port: number, admission: Admission) {
    this.#o = o
    this.#server = server
    this.#admission = admission
    this.#registration = new RegistrationGuard(o.registration ?? {})
    this.#expiry = new SpaceExpiry(o.storage, this.#registration.limits)
    this.self = self
    this.port = port
    const scheme = o.tls ? 'wss' : 'ws'
    this.url = o.host.includes(':') ? `${scheme}://[${o.host}]:${port}` : `${scheme}://${o.host}:${port}`
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: this.#maxFrame, perMessageDeflate: false })
    this.metrics = new RelayMetrics(() => this.#gauges())
    this.publicKey = identity.publicKey
    this.metrics.limits = () => {
      const a = this.#admission.stats()
      return {
        sockets: a.connections, pending: a.pending, refused: a.refusedTotal, timedOut: a.timedOutTotal,
        registered: this.#registration.count, registrationsRefused: this.#registration.refusedTotal, failedSpaces: this.#failedSpaces.size,
      }
    }
    this.#gate = {
      self,
      identity,
      registry: new Registry(o.storage),
      openSpace: (id) => this.#openSpace(id),
      now: () => Date.now(),
      onRefused: (reason) => {
        this.metrics.refusedTotal++
        log('refused: %s', reason)
      },
    }
    server.on('request', (req, res) => this.#http(req, res))
    server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head))
  }

  static async start(o: RelayServerOptions): Promise<RelayServer> {
    const { id, seed } = await o.storage.identity()
    const identity = signingKeyFromSeed(seed)
    const self: PeerInfo = { id, name: 'relay', kind: 'relay', host: os.hostname() }
    const server = o.tls ? https.createServer({ cert: o.tls.cert, key: o.tls.key }) : http.createServer()
    const admission = new Admission(o.limits)
    server.on('connection', (socket) => void admission.accept(socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(listenError(o.host, o.port, err as NodeJS.ErrnoException)))
      server.listen(o.port, o.host, () => resolve())
    })
    server.on('error', (err) => log('server error: %s', err.message))
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : o.port
    const relay = new RelayServer(o, server, self, identity, port, admission)
    await relay.sweep()
    relay.#sweepTimer = setInterval(() => void relay.sweep().catch((err: unknown) => log('sweep failed: %s', (err as Error).message)), o.sweepMs ?? RELAY_DEFAULTS.sweepMs)
    relay.#sweepTimer.unref()
    return relay
  }

  /** Counts the registered spaces and forgets the expired ones that are not loaded; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    const { forgotten, kept } = await this.#expiry.sweep((id) => this.#spaces.has(id), now)
    this.#registration.count = kept
    // The registry caches registrations: a fresh one forgets the removed spaces (gate.ts has no hook).
    if (forgotten) this.#gate.registry = new Registry(this.#o.storage)
    return forgotten
  }

  get #maxFrame(): number {
    return this.#o.maxFrameBytes ?? RELAY_DEFAULTS.maxFrameBytes
  }

  /** Graceful: stop accepting, close sessions with 1001, flush every space to disk. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearInterval(this.#sweepTimer)
      this.#server.close()
      this.#server.closeIdleConnections?.()
      const closing = [...this.#sessions].map((s) => {
        s.close(CloseCode.GoingAway, 'relay shutting down')
        return s.whenClosed
      })
      await atMost(Promise.all(closing), STOP_GRACE_MS)
      await Promise.all([...this.#spaces.keys()].map((id) => this.#unload(id)))
      this.#wss.close()
      this.metrics.stop()
    })()
    return this.#stopping
  }

  // ── HTTP ──

  #http(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
      res.end(body)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain; charset=utf-8', 'method not allowed\n')
    if (path === '/healthz') {
      const g = this.#gauges()
      const a = this.#admission.stats()
      const failed = [...this.#failedSpaces].slice(0, 20).map(([space, f]) => ({ space, ...f }))
      const status = this.#stopping ? 'stopping' : failed.length ? 'degraded' : 'ok'
      const body = {
        status, protocol: PROTOCOL_VERSION, uptimeSeconds: Math.round((Date.now() - this.metrics.startedAt) / 1000),
        connections: g.connections, sockets: a.connections, pending: a.pending, sessions: g.sessions, spaces: g.spaces, registered: this.#registration.count,
        refused: { connections: a.refusedTotal, timedOut: a.timedOutTotal, evicted: a.evictedTotal, registrations: this.#registration.refusedTotal },
        failedSpaces: this.#failedSpaces.size, ...(failed.length ? { failed } : {}),
      }
      return send(this.#stopping ? 503 : 200, 'application/json', JSON.stringify(body) + '\n')
    }
    if (path === '/metrics') return send(200, 'text/plain; version=0.0.4; charset=utf-8', this.metrics.render())
    if (path === '/') return send(426, 'text/plain; charset=utf-8', 'ctxsync relay: peers connect with a WebSocket (ctxsync sync --registry URL)\n')
    send(404, 'text/plain; charset=utf-8', 'not found\n')
  }

  #upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#stopping) return void socket.destroy()
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connection(ws, req))
  }

  // ── connections ──

  #connection(ws: WebSocket, req: http.IncomingMessage): void {
    const addr = req.socket.remoteAddress ?? 'unknown'
    const remote = `${addr.includes(':') ? `[${addr}]` : addr}:${req.socket.remotePort ?? 0}`
    const rate = { ...DEFAULT_RATE_LIMIT, ...this.#o.rate }
    const t = new WsTransport(ws, remote, this.#o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, {
      throttle: connectionThrottle(rate, () => this.metrics.throttledTotal++),
      onAdmitted: () => this.#admission.trust(req.socket),
    })
    this.#transports.add(t)
    this.metrics.connectionsTotal++
    t.on('close', (code) => {
      this.#transports.delete(t)
      this.#closedBytes.in += t.bytesIn
      this.#closedBytes.out += t.bytesOut
      if (code === CloseCode.TooBig) this.metrics.tooBigTotal++
    })
    const session = new PeerSession({
      ...RELAY_DEFAULTS.session,
      ...this.#o.session,
      maxFrameBytes: this.#maxFrame,
      transport: t,
      role: 'accept',
      handshake: this.#registration.wrap(new RelayHandshake(this.#gate), addressKey(addr), () => this.#gate.registry),
    })
    this.#sessions.add(session)
    session.on('authenticated', (peer) => {
      this.metrics.sessionsTotal++
      const space = session.host as RelaySpace
      const slot = this.#spaces.get(space.spaceId)
      clearTimeout(slot?.idle)
      const most = this.#o.maxSessionsPerSpace ?? RELAY_DEFAULTS.maxSessionsPerSpace
      if (space.sessionCount >= most) {
        session.close(CloseCode.TryAgainLater, `space ${space.spaceId} has the most sessions this relay allows (${most}); try again later`)
        return
      }
      this.#expiry.visit(space.spaceId)
      space.attach(session)
      log('%s: %s (%s) joined %s with %s access%s', remote, peer.name, peer.id, space.spaceId, session.access, session.transient ? ' (one-shot)' : '')
      // A token is checked when a session opens and again when it expires: a live session must not outlast it.
      if (session.expiresAt !== undefined) expiry = atTime(session.expiresAt, () => session.refuse(CloseCode.Unauthenticated, `token expired at ${new Date(session.expiresAt!).toISOString()}: create a new one with \`ctxsync token create\``))
    })
    let expiry: (() => void) | undefined
    session.on('closed', (info) => {
      expiry?.()
      this.#sessions.delete(session)
      if (info.code === CloseCode.Policy && /too slow/.test(info.reason)) this.metrics.slowClosedTotal++
      const space = session.host as RelaySpace | undefined
      if (!space) return
      space.detach(session)
      this.#armIdle(space.spaceId)
    })
    session.start()
  }

  // ── spaces ──

  async #openSpace(id: SpaceId): Promise<RelaySpace> {
    let slot = this.#spaces.get(id)
    if (slot?.closing) {
      await slot.closing
      slot = this.#spaces.get(id)
    }
    if (!slot) {
      const loading = RelaySpace.load({
        spaceId: id, self: this.self, store: this.#o.storage.docs(id), metrics: this.metrics,
        maxDocs: this.#o.maxDocsPerSpace ?? RELAY_DEFAULTS.maxDocsPerSpace,
        onFailure: (err) => {
          this.#failedSpaces.set(id, { error: err.message, at: new Date().toISOString() })
          void this.#unload(id)
        },
        ...(this.#o.afterTransaction ? { afterTransaction: this.#o.afterTransaction } : {}),
        ...(this.#o.guard ? { guard: this.#o.guard } : {}),
      })
      const fresh: Slot = { loading }
      slot = fresh
      this.#spaces.set(id, fresh)
      loading.then(
        (s) => {
          fresh.space = s
          this.#failedSpaces.delete(id)
        },
        (err: Error) => {
          log('%s: cannot load: %s', id, err.message)
          if (this.#failedSpaces.size < 10_000) this.#failedSpaces.set(id, { error: `cannot load: ${err.message}`, at: new Date().toISOString() })
          if (this.#spaces.get(id) === fresh) this.#spaces.delete(id)
        },
      )
    }
    const space = await slot.loading
    // Admitted but the session may be gone by now: make sure an unattached space does not stay loaded.
    this.#armIdle(id)
    return space
  }

  #armIdle(id: SpaceId): void {
    const slot = this.#spaces.get(id)
    if (!slot?.space || slot.closing) return
    clearTimeout(slot.idle)
    if (slot.space.sessionCount > 0 || this.#stopping) return
    slot.idle = setTimeout(() => void this.#unload(id), this.#o.idleUnloadMs ?? RELAY_DEFAULTS.idleUnloadMs)
    slot.idle.unref()
  }

  #unload(id: SpaceId): Promise<void> {
    const slot = this.#spaces.get(id)
    if (!slot) return Promise.resolve()
    clearTimeout(slot.idle)
    slot.closing ??= (async () => {
      const space = await slot.loading.catch(() => undefined)
      await space?.close(space.failed ? 1011 : CloseCode.GoingAway, space.failed ? 'the relay could not store this space' : 'relay shutting down')
      if (this.#spaces.get(id) === slot) this.#spaces.delete(id)
      log('%s: unloaded', id)
    })()
    return slot.closing
  }

  #gauges() {
    let bytesIn = this.#closedBytes.in
    let bytesOut = this.#closedBytes.out
    for (const t of this.#transports) {
      bytesIn += t.bytesIn
      bytesOut += t.bytesOut
    }
    let sessions = 0
    for (const s of this.#sessions) if (s.authenticated) sessions++
    let spaces = 0
    for (const slot of this.#spaces.values()) if (slot.space) spaces++
    return { connections: this.#transports.size, sessions, spaces, bytesIn, bytesOut }
  }
}

/** A listen failure said as what to do (EADDRINUSE was shown raw: issue 17). */
export function listenError(host: string, port: number, err: NodeJS.ErrnoException): CtxError {
  if (err.code === 'EADDRINUSE') return new CtxError('port-in-use', `port ${port} on ${host} is in use (another \`ctxsync serve\` or program listens there): pass --port (0 picks a free one) or stop it`)
  if (err.code === 'EACCES') return new CtxError('listen-failed', `not allowed to listen on ${host}:${port} (ports below 1024 need privileges): pass a --port of 1024 or more`)
  if (err.code === 'EADDRNOTAVAIL') return new CtxError('listen-failed', `${host} is not an address of this machine: pass a --host this machine has (127.0.0.1, 0.0.0.0)`)
  return new CtxError('listen-failed', `cannot listen on ${host}:${port}: ${err.message}`)
}

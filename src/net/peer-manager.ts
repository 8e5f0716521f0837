/**
 * PeerManager: the long-running side of networking (`ctxsync watch`). It listens for peers, dials the
 * configured ones and keeps dialling them with full-jitter exponential backoff, runs one PeerSession per
 * connection, and forwards every host update to every authenticated peer except the one it came from, so
 * peers that only reach each other through a third one (A–B–C) still converge.
 *
 * When two peers dial each other, both connections authenticate; each side keeps the one dialled by the
 * smaller peer id, which both compute alike, and closes the other as a duplicate. The dial target whose
 * connection lost stays quiet ("covered") until the connection that won goes away. A one-shot connection
 * (`ctxsync sync` from a peer that may also keep a live session with us) is never part of that choice: it
 * neither displaces the live session nor is closed for it, and it gets live updates like any other.
 *
 * One dial target may be the registry relay (`ctxsync serve`, `relay` in the config): only that URL is
 * dialled as a relay, which must prove the key pinned for the space; every other target, and everything
 * that dials us, must be a peer that proves the secret. The relay's live peer list is kept per target
 * (`registry()`), and with a read-only token nothing local is sent.
 *
 * Dial targets may also come and go while running (`addPeer`/`dropPeer`: peers found by mDNS, see
 * `discovery/`). A dropped target that is still connected stays until that connection ends by itself (the
 * heartbeat decides that a peer vanished); then it is forgotten instead of redialled.
 *
 * Presence: every live session is told this peer's presence (`setPresence`) when it opens, whenever it
 * changes and every minute; what the others announce is kept, and passed on between peer-to-peer sessions
 * so that peers in a chain or ring see each other (`presence-forward.ts`, `presence()`).
 *
 * One-shot syncing (`ctxsync sync`) lives in `sync-once.ts` and is re-exported here.
 */
import type { PeerId } from '../ids.js'
import { logger } from '../debuglog.js'
import { deriveCredentials, type SpaceCredentials } from './auth.js'
import type { LivePeer, PresenceFile } from './protocol.js'
import type { PresenceEntry } from './presence.js'
import { PresenceForwarder } from './presence-forward.js'
import { DEFAULT_MAX_FRAME_BYTES } from './chunking.js'
import { TypedEmitter } from './emitter.js'
import { forwardUpdate } from './forward.js'
import { atMost } from './timers.js'
import { PeerSession, type SessionClosed } from './session.js'
import type { PeerInfo } from './SyncHost.js'
import { CloseCode, type Dialer, type Listener, type Transport } from './TransportInterface.js'
import { DEFAULT_HEARTBEAT_MS, listen, wsDialer } from './ws.js'
import {
  backoffDelay, DEFAULT_BACKOFF, newTarget, peerFields, prune, REFUSED_RETRY_MS,
  type AddPeerOptions, type Conn, type PeerManagerConfig, type PeerManagerEvents, type PeerState, type Target,
} from './peer-state.js'

export { backoffDelay, DEFAULT_BACKOFF } from './peer-state.js'
export type { AddPeerOptions, PeerManagerConfig, PeerManagerEvents, PeerState, PeerStatus } from './peer-state.js'
export { peekRegistry, syncOnce } from './sync-once.js'
export type { PeekResult, SyncOnceOptions, SyncOnceResult, PeerSyncResult, SyncOutcome } from './sync-once.js'

const log = logger('net:peers')
const MAX_RECENT = 16
const STOP_GRACE_MS = 3000

export class PeerManager extends TypedEmitter<PeerManagerEvents> {
  readonly #cfg: PeerManagerConfig
  readonly #creds: SpaceCredentials | undefined
  readonly #dialer: Dialer
  readonly #backoff: { baseMs: number; maxMs: number }
  readonly #targets = new Map<string, Target>()
  readonly #conns = new Set<Conn>()
  readonly #active = new Map<PeerId, Conn>()
  /** Authenticated one-shot sessions: forwarded to, never deduplicated. */
  readonly #transient = new Set<Conn>()
  readonly #dialing = new Set<Promise<void>>()
  #recent: PeerState[] = []
  readonly #presence: PresenceForwarder<Conn>
  #listener: Listener | undefined
  #unsubscribe: (() => void) | undefined
  #started = false
  #stopped = false

  constructor(cfg: PeerManagerConfig) {
    super()
    this.#cfg = cfg
    this.#creds = cfg.secret ? deriveCredentials(cfg.secret, cfg.host.spaceId) : undefined
    this.#dialer = cfg.dialer ?? wsDialer({ maxFrameBytes: this.#maxFrame, heartbeatMs: this.#heartbeat })
    this.#backoff = cfg.backoff ?? DEFAULT_BACKOFF
    for (const url of new Set(cfg.peers)) this.#targets.set(url, newTarget(url))
    this.#presence = new PresenceForwarder<Conn>({
      self: cfg.host.self,
      sessions: () => this.#live(),
      peerOf: (c) => c.session.peer,
      send: (c, m) => c.session.sendControl(m),
      onChange: () => this.emit('presence'),
      timing: cfg.presence,
    })
  }

  get #maxFrame(): number {
    return this.#cfg.maxFrameBytes ?? this.#cfg.session?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  }

  get #heartbeat(): number {
    return this.#cfg.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  }

  async start(): Promise<{ url?: string; port?: number }> {
    if (this.#started) throw new Error('PeerManager already started')
    this.#started = true
    this.#unsubscribe = this.#cfg.host.onUpdate((doc, update, origin) => {
      forwardUpdate([...this.#active.values(), ...this.#transient].map((c) => c.session), doc, update, origin)
    })
    if (this.#cfg.listen) {
      const factory = this.#cfg.listenerFactory ?? listen
      try {
        this.#listener = await factory({ ...this.#cfg.listen, maxFrameBytes: this.#maxFrame, heartbeatMs: this.#heartbeat })
      } catch (err) {
        this.#unsubscribe()
        throw err
      }
      this.#listener.onConnection((t) => this.#accept(t))
    }
    for (const target of this.#targets.values()) this.#dial(target)
    this.#presence.start()
    return this.#listener ? { url: this.#listener.url, port: this.#listener.port } : {}
  }

  /** Closes every session with 1001, waits for them (briefly), then stops listening. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#unsubscribe?.()
    this.#presence.stop()
    for (const target of this.#targets.values()) clearTimeout(target.timer)
    // A dial still in flight closes its own transport when it lands (it sees #stopped).
    await atMost(Promise.all(this.#dialing), STOP_GRACE_MS)
    const closing = [...this.#conns].map((c) => {
      c.session.close(CloseCode.GoingAway, 'peer shutting down')
      return c.session.whenClosed
    })
    await atMost(Promise.all(closing), STOP_GRACE_MS)
    await this.#listener?.close()
  }

  /** Keeps `url` connected from now on (a peer found while running); no-op for a URL already known. */
  addPeer(url: string, o: AddPeerOptions = {}): void {
    const known = this.#targets.get(url)
    if (known) {
      known.dropped = false
      return
    }
    const target = newTarget(url)
    this.#targets.set(url, target)
    if (!this.#started || this.#stopped) return
    if (o.expect && this.#active.has(o.expect)) {
      target.coveredBy = o.expect
      target.state = 'connected'
      return
    }
    if (o.delayMs) {
      target.timer = setTimeout(() => {
        if (o.expect && this.#active.has(o.expect)) {
          target.timer = undefined
          Object.assign(target, { coveredBy: o.expect, state: 'connected' })
        } else this.#dial(target)
      }, o.delayMs)
    } else this.#dial(target)
  }

  /** Stops keeping `url` connected; a live connection through it stays until it ends by itself. */
  dropPeer(url: string): void {
    const t = this.#targets.get(url)
    if (!t) return
    t.dropped = true
    if (t.conn && t.conn.state !== 'closed') return
    clearTimeout(t.timer)
    this.#targets.delete(url)
  }

  /** Whether a live (non-duplicate, non-one-shot) session with this peer is up. */
  isConnected(id: PeerId): boolean {
    return this.#active.get(id)?.state === 'connected'
  }

  /** What this peer announces: the files it changed lately; sent to every live session. */
  setPresence(files: PresenceFile[]): void {
    this.#presence.setFiles(files)
  }

  /** Who is online now, as far as this peer knows (not itself), and what they touch. */
  presence(): PresenceEntry[] {
    return this.#presence.list()
  }

  peers(): PeerState[] {
    const out: PeerState[] = []
    const shown = new Set<Conn>()
    for (const t of this.#targets.values()) {
      const kept = t.coveredBy ? this.#active.get(t.coveredBy) : undefined
      const conn = kept ?? t.conn
      if (conn) {
        shown.add(conn)
        out.push({ ...this.#stateOf(conn), url: t.url })
      } else {
        out.push(prune({
          url: t.url, ...peerFields(t.peer), direction: 'out' as const, state: t.state,
          lastSeen: t.lastSeen, error: t.error,
        }))
      }
    }
    for (const c of this.#conns) {
      if (!shown.has(c) && !c.duplicate && !c.target && !this.#transient.has(c)) out.push(this.#stateOf(c))
    }
    return [...out, ...this.#recent]
  }

  /** The live peer lists of the relays among the dial targets. */
  registry(): Array<{ url: string; peers: LivePeer[] }> {
    const out: Array<{ url: string; peers: LivePeer[] }> = []
    for (const t of this.#targets.values()) {
      const list = t.conn?.session.registry
      if (list && t.conn?.state === 'connected') out.push({ url: t.url, peers: list })
    }
    return out
  }

  #accept(t: Transport): void {
    if (this.#stopped) return t.close(CloseCode.GoingAway, 'peer shutting down')
    this.#attach(t, 'in', undefined)
  }

  #dial(target: Target): void {
    target.timer = undefined
    if (this.#stopped) return
    target.state = 'connecting'
    const attempt = (async (): Promise<void> => {
      let t: Transport
      try {
        t = await this.#dialer.dial(target.url, { timeoutMs: this.#cfg.dialTimeoutMs ?? 5000 })
      } catch (err) {
        target.state = 'unreachable'
        target.error = (err as Error).message
        log('%s unreachable: %s', target.url, target.error)
        this.#retry(target, this.#nextDelay(target))
        return
      }
      if (this.#stopped) return t.close(CloseCode.GoingAway, 'peer shutting down')
      this.#attach(t, 'out', target)
    })().catch((err: unknown) => log('%s: dial attempt failed unexpectedly: %O', target.url, err))
    this.#dialing.add(attempt)
    void attempt.finally(() => this.#dialing.delete(attempt))
  }

  #nextDelay(target: Target): number {
    const delay = backoffDelay(target.attempt, this.#backoff)
    target.attempt = Math.min(target.attempt + 1, 40)
    return delay
  }

  #retry(target: Target, delayMs: number): void {
    if (this.#stopped || this.#targets.get(target.url) !== target) return
    clearTimeout(target.timer)
    log('%s: retrying in %d ms', target.url, Math.round(delayMs))
    target.timer = setTimeout(() => this.#dial(target), delayMs)
  }

  #attach(t: Transport, direction: 'in' | 'out', target: Target | undefined): void {
    const session = new PeerSession({
      ...this.#cfg.session,
      maxFrameBytes: this.#maxFrame,
      host: this.#cfg.host,
      transport: t,
      role: direction === 'out' ? 'dial' : 'accept',
      credentials: this.#creds,
      token: this.#cfg.token,
      ...(target && this.#cfg.relay?.url === target.url ? { relay: this.#cfg.relay } : {}),
    })
    const conn: Conn = { session, direction, target, state: 'connecting', duplicate: false }
    this.#conns.add(conn)
    if (target) target.conn = conn
    session.on('authenticated', (peer) => this.#onAuthenticated(conn, peer))
    session.on('synced', () => {
      if (conn.target) conn.target.attempt = 0
      if (!conn.duplicate) this.emit('peer-synced', this.#stateOf(conn))
    })
    session.on('closed', (info) => this.#onClosed(conn, info))
    session.on('registry', (peers) => {
      if (target) this.emit('registry', target.url, peers)
    })
    session.on('presence', (m) => {
      if (!conn.duplicate && !session.transient) this.#presence.heard(conn, m)
    })
    session.start()
  }

  #onAuthenticated(conn: Conn, peer: PeerInfo): void {
    conn.state = 'connected'
    if (conn.session.transient) {
      this.#transient.add(conn)
      this.emit('peer-sync-once', this.#stateOf(conn))
      return
    }
    this.#recent = this.#recent.filter((r) => r.id !== peer.id)
    if (conn.target) Object.assign(conn.target, { state: 'connected', peer, error: undefined, coveredBy: undefined })
    const existing = this.#active.get(peer.id)
    if (existing) {
      const keep = this.#prefer(existing, conn, peer.id)
      const drop = keep === conn ? existing : conn
      log('duplicate connection to %s: keeping %s, closing %s', peer.id, keep.direction, drop.direction)
      drop.duplicate = true
      this.#active.set(peer.id, keep)
      drop.session.close(CloseCode.Normal, 'duplicate connection')
      // Both sides keep the same connection; presence sent on the dropped one went nowhere.
      if (keep === conn) this.#presence.opened(conn)
      return // the peer was reported connected through the first connection
    }
    this.#active.set(peer.id, conn)
    this.emit('peer-connected', this.#stateOf(conn))
    this.#presence.opened(conn)
  }

  /** The sessions presence goes to: authenticated, kept, not one-shot. */
  *#live(): Iterable<Conn> {
    for (const c of this.#active.values()) if (c.state === 'connected' && !c.duplicate && !c.session.transient) yield c
  }

  #prefer(a: Conn, b: Conn, peerId: PeerId): Conn {
    const self = this.#cfg.host.self.id
    const dialler = (c: Conn): PeerId => (c.direction === 'out' ? self : peerId)
    if (dialler(a) !== dialler(b)) return dialler(a) === (self < peerId ? self : peerId) ? a : b
    // Same dialler: the newer connection is the live one when the old is half-open.
    return b
  }

  #onClosed(conn: Conn, info: SessionClosed): void {
    this.#conns.delete(conn)
    this.#presence.closed(conn)
    if (this.#transient.delete(conn)) return
    const { session } = conn
    let target = conn.target
    const peer = session.peer
    const wasActive = peer !== undefined && this.#active.get(peer.id) === conn
    if (wasActive) this.#active.delete(peer.id)
    if (target?.dropped && target.conn === conn && !conn.duplicate) {
      // Dropped while connected (a peer that is no longer advertised): forget it now.
      this.#targets.delete(target.url)
      target = undefined
    }
    if (target) {
      if (target.conn === conn) target.conn = undefined
      target.peer = peer ?? target.peer
      target.lastSeen = session.lastSeen ?? target.lastSeen
    }
    if (conn.duplicate) {
      conn.state = 'closed'
      if (target && peer && this.#active.has(peer.id)) target.coveredBy = peer.id
      else if (target) this.#retry(target, this.#nextDelay(target))
      return
    }
    conn.state = info.refused ? 'refused' : 'closed'
    const state: PeerState = { ...this.#stateOf(conn), error: info.reason }
    // Who dialled in and was refused proved nothing: its address is all that names it (the log said "?").
    if (info.refused) this.emit('peer-refused', conn.direction === 'in' ? { ...state, remote: conn.session.remote } : state, info)
    else if (wasActive) this.emit('peer-disconnected', state, info)
    if (wasActive) this.#uncover(peer.id)
    if (target) {
      target.state = conn.state
      target.error = info.reason
      // Refused (a wrong secret or token): no use asking again soon, and each refusal is logged on both sides.
      this.#retry(target, info.refused ? (this.#backoff === DEFAULT_BACKOFF ? REFUSED_RETRY_MS : this.#backoff.maxMs) : this.#nextDelay(target))
    } else if (info.refused || wasActive) {
      this.#recent = [state, ...this.#recent.filter((r) => !r.id || r.id !== state.id)].slice(0, MAX_RECENT)
    }
  }

  /** The kept connection to `peer` is gone: dial targets it covered go back to dialling. */
  #uncover(peer: PeerId): void {
    for (const t of this.#targets.values()) {
      if (t.coveredBy !== peer) continue
      t.coveredBy = undefined
      if (t.dropped) {
        this.#targets.delete(t.url)
        continue
      }
      t.state = 'closed'
      this.#retry(t, this.#nextDelay(t))
    }
  }

  #stateOf(c: Conn): PeerState {
    return prune({
      url: c.target?.url,
      ...peerFields(c.session.claimedPeer),
      direction: c.direction,
      state: c.state,
      lastSeen: c.session.lastSeen,
      access: c.session.access,
    })
  }
}

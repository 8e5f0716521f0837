/**
 * The vocabulary of the peer manager (`peer-manager.ts`): what it reports about each peer, its configuration and
 * events, and the per-connection and per-dial-target records it keeps.
 */
import type { AdmissionLimits } from './admission.js'
import type { PeerId } from '../ids.js'
import type { RelayDial } from './handshake.js'
import type { Access, LivePeer } from './protocol.js'
import type { PresenceTiming } from './presence-forward.js'
import type { PeerSession, SessionClosed, SessionTuning } from './session.js'
import type { PeerInfo, PeerKind, SyncHost } from './SyncHost.js'
import type { Dialer, Listener } from './TransportInterface.js'
import type { ListenOptions } from './ws.js'

export type PeerStatus = 'connecting' | 'connected' | 'refused' | 'unreachable' | 'closed'

export interface PeerState {
  url?: string
  id?: PeerId
  name?: string
  kind?: PeerKind
  host?: string
  direction: 'in' | 'out'
  state: PeerStatus
  /** ms epoch of the last frame received from this peer. */
  lastSeen?: number
  error?: string
  /** What a relay granted this machine (read, write, admin); undefined peer to peer. */
  access?: Access
  /** Where an incoming connection came from (`ws://ADDRESS:PORT`); set on `peer-refused` only. */
  remote?: string
}

export interface PeerManagerConfig {
  host: SyncHost
  /** The space secret; without it only relays can be reached, with `token`. */
  secret?: string
  /** A relay token (CTXSYNC_TOKEN); relays are shown it instead of a proof of the secret. */
  token?: string
  listen?: { host: string; port: number; limits?: Partial<AdmissionLimits> }
  /** ws:// URLs of peers to keep connected to. */
  peers: string[]
  /** The registry: the one URL dialled as a relay (it must prove the pinned key); every other is a peer. */
  relay?: RelayDial
  heartbeatMs?: number
  maxFrameBytes?: number
  backoff?: { baseMs: number; maxMs: number }
  dialTimeoutMs?: number
  dialer?: Dialer
  listenerFactory?: (opts: ListenOptions) => Promise<Listener>
  /** Session knobs (encryption, queue limits, timeouts); mostly for tests. */
  session?: Partial<SessionTuning>
  /** How often presence is announced again and when passed-on presence expires; mostly for tests. */
  presence?: PresenceTiming
}

export type PeerManagerEvents = {
  'peer-connected': (peer: PeerState) => void
  'peer-disconnected': (peer: PeerState, info: SessionClosed) => void
  'peer-refused': (peer: PeerState, info: SessionClosed) => void
  'peer-synced': (peer: PeerState) => void
  /** A one-shot session (a peer's `ctxsync sync`) authenticated. */
  'peer-sync-once': (peer: PeerState) => void
  /** A relay sent its list of the space's live peers. */
  registry: (url: string, peers: LivePeer[]) => void
  /** Who is online, or what they touch, changed (`presence()`). */
  presence: () => void
}

export interface Conn {
  session: PeerSession
  direction: 'in' | 'out'
  target: Target | undefined
  state: PeerStatus
  /** Closed by us because another connection to the same peer was kept. */
  duplicate: boolean
}

export interface Target {
  url: string
  attempt: number
  timer: NodeJS.Timeout | undefined
  conn: Conn | undefined
  state: PeerStatus
  error: string | undefined
  peer: PeerInfo | undefined
  lastSeen: number | undefined
  /** The peer behind this URL is connected through another connection that won deduplication. */
  coveredBy: PeerId | undefined
  /** Dropped (`dropPeer`) while connected: forgotten, not redialled, once that connection ends. */
  dropped?: boolean
}

export interface AddPeerOptions {
  /** The peer id expected behind the URL: already connected to it, the target waits ("covered"). */
  expect?: PeerId
  /** Dial only after this long (and not at all if `expect` connected meanwhile). */
  delayMs?: number
}

/**
 * Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniformly random below a ceiling
 * that doubles per failed attempt up to `maxMs`, so many peers that lost the same server do not return to
 * it in lockstep.
 */
export function backoffDelay(attempt: number, b: Backoff, random = Math.random): number {
  return random() * backoffCeiling(attempt, b)
}

export interface Backoff {
  baseMs: number
  maxMs: number
}

/**
 * Capped at 8 s: a peer that comes back is dialled again within 10 s however long it was down (capped at
 * 30 s, a peer down 16 s was retried only after 34 s: issue 17). Dialling a closed port costs next to
 * nothing, and the jitter keeps many peers from dialling in step.
 */
export const DEFAULT_BACKOFF: Backoff = { baseMs: 250, maxMs: 8_000 }
/** A refusal (wrong secret, revoked token) is not retried sooner than this. */
export const REFUSED_RETRY_MS = 30_000

/** The exponential ceiling alone: `baseMs` doubled per failed attempt (from 0), capped at `maxMs`. */
export function backoffCeiling(attempt: number, b: Backoff): number {
  return Math.min(b.maxMs, b.baseMs * 2 ** attempt)
}

export const peerFields = (p: PeerInfo | undefined): Partial<PeerState> =>
  p ? { id: p.id, name: p.name, kind: p.kind, ...(p.host !== undefined ? { host: p.host } : {}) } : {}

export function prune<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k]
  return o
}

export function newTarget(url: string): Target {
  return {
    url, attempt: 0, timer: undefined, conn: undefined, state: 'connecting',
    error: undefined, peer: undefined, lastSeen: undefined, coveredBy: undefined,
  }
}

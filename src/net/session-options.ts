/**
 * The knobs and the events of a PeerSession (`session.ts`), apart from the session itself.
 */
import type { SpaceCredentials } from './auth.js'
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_MESSAGE_BYTES } from './chunking.js'
import type { Encryption } from './channel.js'
import type { Handshake, RelayTarget } from './handshake.js'
import type { LivePeer, PresenceMessage, Role } from './protocol.js'
import type { PeerInfo, SyncHost } from './SyncHost.js'
import type { Transport } from './TransportInterface.js'

export interface SessionTuning {
  encryption: Encryption
  maxFrameBytes: number
  maxMessageBytes: number
  handshakeTimeoutMs: number
  /** At most one Ack per this many ms. */
  ackDelayMs: number
  /** Stop producing sync data while this many bytes wait in the transport or outbox. */
  highWaterBytes: number
  /** Close with 1008 when more than this waits to be sent (or to be applied, inbound). */
  maxQueuedBytes: number
}

export const DEFAULT_TUNING: SessionTuning = {
  encryption: 'secret',
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  handshakeTimeoutMs: 10_000,
  ackDelayMs: 50,
  highWaterBytes: 1024 * 1024,
  maxQueuedBytes: 64 * 1024 * 1024,
}

export interface PeerSessionOptions extends Partial<SessionTuning> {
  transport: Transport
  role: Role
  /** The documents to sync; a relay's sessions learn theirs from the handshake instead. */
  host?: SyncHost
  /** The space secret's credentials (peers, and relays that see the secret proved). */
  credentials?: SpaceCredentials
  /** A relay token, shown instead of a proof when dialling a relay. */
  token?: string
  /** Set when dialling the registry URL: the other end must be a relay proving this key. */
  relay?: RelayTarget
  /** Overrides the peer handshake built from host/credentials/token (the relay's side). */
  handshake?: Handshake
  /** This is a one-shot connection (`ctxsync sync`); never taken for a duplicate of a live one. */
  oneShot?: boolean
  /** Only the relay's Welcome and peer list are wanted (`ctxsync peers`); no document exchange. */
  peek?: boolean
}

export interface SessionClosed {
  code: number
  reason: string
  /** The other side (or we) refused access: wrong secret or token, other space, or a connection to ourselves. */
  refused: boolean
}

export interface SessionProgress {
  bytesSent: number
  bytesReceived: number
}

export type PeerSessionEvents = {
  authenticated: (peer: PeerInfo) => void
  synced: () => void
  /** Every live update sent so far is acknowledged. */
  settled: () => void
  closed: (info: SessionClosed) => void
  progress: (p: SessionProgress) => void
  /** A relay's list of the space's live peers (again whenever it changes). */
  registry: (peers: LivePeer[]) => void
  /** Who is online and what they touch: the other side's own, or (from a relay) any peer of the space. */
  presence: (m: PresenceMessage) => void
}

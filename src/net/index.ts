/**
 * The network layer's public surface: what the space orchestrator and the commands import. Everything
 * else in `src/net/` is an implementation detail of these.
 */
export * from './TransportInterface.js'
export type { PeerInfo, PeerKind, SyncHost } from './SyncHost.js'
export {
  PROTOCOL_VERSION, ProtocolError, ProtocolVersionError, type Access, type LivePeer, type Message, type MessageType,
  type Role,
} from './protocol.js'
export { deriveCredentials, spacePublicKey, type SpaceCredentials } from './auth.js'
export type { Encryption } from './channel.js'
export { createConnectedPair, MemoryTransport } from './memory.js'
export { listen, wsDialer, DEFAULT_HEARTBEAT_MS, type ListenOptions, type WsOptions } from './ws.js'
export { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_MESSAGE_BYTES } from './chunking.js'
export {
  ACCESS_REFUSED, PeerSession, DEFAULT_TUNING,
  type PeerSessionOptions, type PeerSessionEvents, type SessionClosed, type SessionProgress, type SessionTuning,
} from './session.js'
export {
  PeerManager, backoffDelay, peekRegistry, syncOnce, type PeekResult,
  type PeerManagerConfig, type PeerManagerEvents, type PeerState, type PeerStatus,
  type SyncOnceOptions, type SyncOnceResult, type PeerSyncResult, type SyncOutcome,
} from './peers.js'

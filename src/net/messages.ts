/**
 * The messages of the ctxsync wire protocol (see `protocol.ts` for the session flow and the encoding):
 * tags, limits, one interface per message, the `Message` union and its type guards.
 */
import type { PeerId, SpaceId } from '../ids.js'
import type { PeerInfo, PeerKind } from './SyncHost.js'

export const PROTOCOL_VERSION = 5

export const MessageTag = {
  Hello: 1,
  Auth: 2,
  Manifest: 3,
  ManifestEnd: 4,
  SyncStep2: 5,
  Step2End: 6,
  Synced: 7,
  Update: 8,
  Ack: 9,
  Error: 10,
  Chunk: 11,
  RelayAuth: 12,
  Welcome: 13,
  Peers: 14,
  Presence: 15,
  RelayProof: 16,
} as const
export type MessageType = keyof typeof MessageTag

export type Role = 'dial' | 'accept'
/** What a relay lets a peer do in a space: read receives, write also sends, admin also sees addresses. */
export type Access = 'read' | 'write' | 'admin'
export const ACCESS_LEVELS: readonly Access[] = ['read', 'write', 'admin']
export const NONCE_BYTES = 32
export const SIGNATURE_BYTES = 64
export const PUBLIC_KEY_BYTES = 32
/** How many peers may pass one Presence on (`PresenceMessage.hops`): bounds floods and stale copies. */
export const MAX_PRESENCE_HOPS = 8

/** Field bounds; anything beyond them is hostile or broken. */
export const Limits = {
  docName: 4096,
  peerName: 256,
  hostName: 256,
  errorMessage: 2048,
  token: 4096,
  address: 256,
  maxChunks: 1 << 20,
  presenceFiles: 64,
  minFrameBytes: 1024,
} as const

export interface HelloFlags {
  /** A one-shot connection (`ctxsync sync`): it never displaces, nor is displaced by, a live session. */
  oneShot: boolean
  /** Only the relay's Welcome and peer list are wanted; no document exchange. */
  peek: boolean
}

/** A document as one direction of a session names it: in full the first time, by its number after. */
export type DocRef = { name: string } | { id: number }

export interface HelloMessage {
  type: 'Hello'
  proto: number
  spaceId: SpaceId
  peer: PeerInfo
  nonce: Uint8Array
  role: Role
  /** The largest frame this peer accepts; the other side chunks below it. */
  maxFrameBytes: number
  flags: HelloFlags
}
export interface AuthMessage { type: 'Auth'; signature: Uint8Array }
export interface ManifestEntry { doc: DocRef; stateVector: Uint8Array }
export interface ManifestMessage { type: 'Manifest'; entries: ManifestEntry[] }
export interface ManifestEndMessage { type: 'ManifestEnd' }
export interface SyncStep2Message { type: 'SyncStep2'; doc: DocRef; update: Uint8Array }
export interface Step2EndMessage { type: 'Step2End' }
export interface SyncedMessage { type: 'Synced' }
export interface UpdateMessage { type: 'Update'; doc: DocRef; update: Uint8Array }
/** Every Update up to the `seq`-th of this direction (counted from 1) is durably applied. */
export interface AckMessage { type: 'Ack'; seq: number }
export interface ErrorMessage { type: 'Error'; code: number; message: string }
export interface ChunkMessage { type: 'Chunk'; id: number; index: number; total: number; bytes: Uint8Array }
/**
 * What a dialer shows a relay (`relay-auth.ts`): the space's public key and a signature with it, or a token
 * (without its holder seed) and a signature with the token's holder key. Both sign the relay transcript.
 */
export type RelayCredential =
  | { kind: 'key'; publicKey: Uint8Array; signature: Uint8Array }
  | { kind: 'token'; token: string; signature: Uint8Array }
/** The dialer's credential and its half of the channel's key exchange. */
export interface RelayAuthMessage { type: 'RelayAuth'; ephemeral: Uint8Array; credential: RelayCredential }
/** The relay's proof of its identity key for this connection, and its half of the key exchange. */
export interface RelayProofMessage { type: 'RelayProof'; relayKey: Uint8Array; ephemeral: Uint8Array; signature: Uint8Array }
/** The access granted, with a MAC under the channel key so nobody between can change it. */
export interface WelcomeMessage { type: 'Welcome'; access: Access; mac: Uint8Array }
export const MAC_BYTES = 32
/** One live peer of a space, as the relay lists it. */
export interface LivePeer {
  id: PeerId
  name: string
  kind: PeerKind
  host?: string
  /** ms epoch (second precision on the wire) when its session began. */
  since: number
  access: Access
  /** Its network address; only sent to admins. */
  address?: string
}
export interface PeersMessage { type: 'Peers'; peers: LivePeer[] }
/** A file a peer changed lately: its document name and when (ms epoch, second precision on the wire). */
export interface PresenceFile { path: string; at: number }
/**
 * Who `peer` is and what it touches; `online` false: it left (a relay, or a peer that passed it on, says so).
 * `hops`: 0 from the peer itself (and as a relay passes it on), n when n peers passed it on. `at`: when the
 * peer itself issued this announcement (ms epoch); it only orders announcements of the same peer (newer
 * wins), and is never compared with a local clock, which may disagree.
 */
export interface PresenceMessage {
  type: 'Presence'
  peer: PeerInfo
  online: boolean
  files: PresenceFile[]
  hops: number
  at: number
}

export type Message =
  | HelloMessage | AuthMessage | ManifestMessage | ManifestEndMessage | SyncStep2Message | Step2EndMessage
  | SyncedMessage | UpdateMessage | AckMessage | ErrorMessage | ChunkMessage | RelayAuthMessage | WelcomeMessage
  | PeersMessage | PresenceMessage | RelayProofMessage

/**
 * Guards for the messages that code outside a `switch (m.type)` picks out (tests of the codec, mostly):
 * the session and the relay switch on `type`, which narrows as well. Add one when something needs it.
 */
const guard = <T extends MessageType>(type: T) => (m: Message): m is Extract<Message, { type: T }> => m.type === type
export const isHello = guard('Hello')
export const isManifest = guard('Manifest')
export const isUpdate = guard('Update')
export const isAck = guard('Ack')
export const isChunk = guard('Chunk')
export const isPresence = guard('Presence')

/**
 * The ctxsync wire protocol, version 5 (v4 with relays that prove a pinned key, sealed relay sessions,
 * proof-of-possession tokens, both Hellos bound into every signature, and an acceptor that speaks only after
 * a Hello for its own space).
 *
 * Every frame on a transport carries exactly one message: a varUint tag (`MessageTag`) followed by the
 * message's fields, encoded with lib0 (varUint integers, varUint-length-prefixed byte arrays and UTF-8
 * strings), y-protocols style. Once both peers proved they know the space secret, frames are sealed with
 * AES-256-GCM (see `channel.ts`); the message layout inside is the same.
 *
 * Peer to peer, a session goes:
 *
 *   dialer                                   acceptor
 *   Hello ─────────────────────────────────▶
 *                                            ◀── Hello, Auth (only for a Hello of its own space)
 *   Auth (signature over both nonces and both Hellos) ─────▶
 *   ── both verified: frames are encrypted from here, document data may flow ──
 *   Manifest* ManifestEnd ──────────────────▶ ◀────────────────── Manifest* ManifestEnd
 *   SyncStep2* Step2End ────────────────────▶ ◀──────────────────── SyncStep2* Step2End
 *   Synced ─────────────────────────────────▶ ◀──────────────────────────────────── Synced
 *   Update / Ack, both ways, for as long as the session lives
 *
 * With a relay (`ctxsync serve`, see `relay/`), only ever dialled at the registry URL, the relay answers the
 * dialer's Hello with its own (peer kind `relay`) and a RelayProof (its identity key, which the space pins, an
 * X25519 key and a signature over both nonces); the dialer checks the key and the signature, then shows its
 * credential with RelayAuth (its own X25519 key and a signature with the space's key, or a token and a
 * signature with the token's holder key, both over the same transcript); the relay answers Welcome (the
 * access granted, MAC'd) or closes with 4401/4403. Frames are sealed from there with keys from the X25519
 * exchange (`relay-auth.ts`); then Peers (the live peer list, again whenever it changes) and the same
 * document exchange follow. A peer endpoint that answers as a relay is refused: relays are not found by
 * `--peer`, `peers:` or mDNS.
 *
 * Manifest lists every document with its Yjs state vector; the other side answers each entry with what the
 * sender lacks (SyncStep2) and, after ManifestEnd, sends whole documents the sender did not list. Synced
 * confirms that everything up to the other side's Step2End was durably applied.
 *
 * Two things keep live traffic small. A document is named in full only the first time a direction of a
 * session mentions it (`DocRef` {name}); from then on by the small integer it got (1, 2, … in order of first
 * mention), so a live edit does not repeat an 18+-byte path. And Update carries no sequence number: both
 * sides count Updates, and Ack names the count of Updates durably applied so far, in one or two bytes,
 * however many Yjs clients the document has seen (the sender remembers what it sent under each number).
 *
 * Presence says who is online and what they touch: a peer's name, kind, host and the files it changed in the
 * last minutes, sent by every live peer when its session opens, again when that list changes and, peer to
 * peer, every minute (`presence-forward.ts`). A relay passes each peer's Presence on to the space's other
 * peers (and tells them when a peer leaves, `online` false). Since v4, peers pass Presence on too, so peers
 * joined only through others (a chain, a ring of `peers:` lists) see each other: `hops` counts the peers
 * that passed it on (0: the peer's own; at most `MAX_PRESENCE_HOPS`) and `at` is when the peer itself issued
 * it, which orders its announcements. Peer to peer, a session takes the other side's own Presence only with
 * hops 0 and anyone else's only with hops ≥ 1; a relay speaks for anyone. (v3 added Presence without hops
 * and `at`; the tag is the same, so the version went up: mixed versions hang up with the clear mismatch
 * message instead of a 1002.)
 *
 * Hello's flags mark a one-shot connection (`ctxsync sync`: never taken for a duplicate of a live one) and a
 * peek (`ctxsync peers`: the relay sends Welcome and Peers, no document exchange).
 *
 * Compatibility: the tag values, the position of `proto` as Hello's first field and the layout of Error
 * are frozen, so any two versions can at least tell each other that they differ and why they hang up.
 *
 * A message whose encoding exceeds the frame limit travels as a series of Chunk messages that the receiver
 * reassembles (`chunking.ts`). `readMessage` trusts nothing: every length is checked against the bytes that
 * remain and every field against its bounds (`wire.ts`), and all failures are `ProtocolError`s.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { isPeerId, isSpaceId } from '../ids.js'
import type { PeerInfo, PeerKind } from './SyncHost.js'
import { ProtocolError, rBytes, rEnum, remaining, rFixed, rString, rUint8, rVarUint } from './wire.js'

export { ProtocolError }

export * from './messages.js'
import {
  ACCESS_LEVELS, Limits, MAC_BYTES, MAX_PRESENCE_HOPS, MessageTag, NONCE_BYTES, PROTOCOL_VERSION, PUBLIC_KEY_BYTES, SIGNATURE_BYTES,
  type DocRef, type HelloFlags, type HelloMessage, type LivePeer, type ManifestEntry, type Message, type PeersMessage,
  type PresenceFile, type PresenceMessage, type RelayAuthMessage, type RelayProofMessage, type Role,
} from './messages.js'

/** The other peer speaks another protocol version; Hello stops being readable after `proto`. */
export class ProtocolVersionError extends ProtocolError {
  readonly remoteVersion: number
  constructor(remoteVersion: number) {
    super(
      `protocol mismatch: this peer speaks ctxsync protocol v${PROTOCOL_VERSION}, the other v${remoteVersion}; ` +
        'upgrade ctxsync on the older side',
    )
    this.name = 'ProtocolVersionError'
    this.remoteVersion = remoteVersion
  }
}

const KINDS: readonly PeerKind[] = ['human', 'agent', 'relay']
const ROLES: readonly Role[] = ['dial', 'accept']

function writePeer(enc: encoding.Encoder, p: PeerInfo): void {
  encoding.writeVarString(enc, p.id)
  encoding.writeVarString(enc, p.name)
  encoding.writeUint8(enc, KINDS.indexOf(p.kind))
  encoding.writeUint8(enc, p.host === undefined ? 0 : 1)
  if (p.host !== undefined) encoding.writeVarString(enc, p.host)
}

function writeDoc(enc: encoding.Encoder, ref: DocRef): void {
  if ('name' in ref) {
    encoding.writeVarUint(enc, 0)
    encoding.writeVarString(enc, ref.name)
  } else encoding.writeVarUint(enc, ref.id)
}

export function writeMessage(enc: encoding.Encoder, m: Message): void {
  encoding.writeVarUint(enc, MessageTag[m.type])
  switch (m.type) {
    case 'Hello':
      encoding.writeVarUint(enc, m.proto)
      encoding.writeVarString(enc, m.spaceId)
      writePeer(enc, m.peer)
      encoding.writeUint8Array(enc, m.nonce)
      encoding.writeUint8(enc, ROLES.indexOf(m.role))
      encoding.writeVarUint(enc, m.maxFrameBytes)
      encoding.writeVarUint(enc, (m.flags.oneShot ? 1 : 0) | (m.flags.peek ? 2 : 0))
      return
    case 'Auth':
      encoding.writeVarUint8Array(enc, m.signature)
      return
    case 'Manifest':
      encoding.writeVarUint(enc, m.entries.length)
      for (const e of m.entries) {
        writeDoc(enc, e.doc)
        encoding.writeVarUint8Array(enc, e.stateVector)
      }
      return
    case 'SyncStep2':
    case 'Update':
      writeDoc(enc, m.doc)
      encoding.writeVarUint8Array(enc, m.update)
      return
    case 'Ack':
      encoding.writeVarUint(enc, m.seq)
      return
    case 'Error':
      encoding.writeVarUint(enc, m.code)
      encoding.writeVarString(enc, m.message)
      return
    case 'Chunk':
      encoding.writeVarUint(enc, m.id)
      encoding.writeVarUint(enc, m.index)
      encoding.writeVarUint(enc, m.total)
      encoding.writeVarUint8Array(enc, m.bytes)
      return
    case 'RelayAuth':
      encoding.writeUint8Array(enc, m.ephemeral)
      if (m.credential.kind === 'key') {
        encoding.writeUint8(enc, 0)
        encoding.writeUint8Array(enc, m.credential.publicKey)
      } else {
        encoding.writeUint8(enc, 1)
        encoding.writeVarString(enc, m.credential.token)
      }
      encoding.writeVarUint8Array(enc, m.credential.signature)
      return
    case 'RelayProof':
      encoding.writeUint8Array(enc, m.relayKey)
      encoding.writeUint8Array(enc, m.ephemeral)
      encoding.writeVarUint8Array(enc, m.signature)
      return
    case 'Welcome':
      encoding.writeUint8(enc, ACCESS_LEVELS.indexOf(m.access))
      encoding.writeUint8Array(enc, m.mac)
      return
    case 'Peers':
      encoding.writeVarUint(enc, m.peers.length)
      for (const p of m.peers) {
        writePeer(enc, p)
        encoding.writeVarUint(enc, Math.floor(p.since / 1000))
        encoding.writeUint8(enc, ACCESS_LEVELS.indexOf(p.access))
        encoding.writeVarString(enc, p.address ?? '')
      }
      return
    case 'Presence':
      writePresence(enc, m)
      return
    case 'ManifestEnd':
    case 'Step2End':
    case 'Synced':
      return
  }
}

function writePresence(enc: encoding.Encoder, m: PresenceMessage): void {
  writePeer(enc, m.peer)
  encoding.writeUint8(enc, m.online ? 1 : 0)
  const files = m.files.slice(0, Limits.presenceFiles)
  encoding.writeVarUint(enc, files.length)
  for (const f of files) {
    encoding.writeVarString(enc, f.path)
    encoding.writeVarUint(enc, Math.max(0, Math.floor(f.at / 1000)))
  }
  encoding.writeVarUint(enc, m.hops)
  encoding.writeVarUint(enc, Math.max(0, Math.floor(m.at)))
}

export function encodeMessage(m: Message): Uint8Array {
  const enc = encoding.createEncoder()
  writeMessage(enc, m)
  return encoding.toUint8Array(enc)
}

function readPeer(d: decoding.Decoder, where: string): PeerInfo {
  const id = rString(d, 'peer id', 128)
  if (!isPeerId(id)) throw new ProtocolError(`malformed peer id in ${where}`)
  const name = rString(d, 'peer name', Limits.peerName, true)
  const kind = rEnum(d, KINDS, 'peer kind')
  const hasHost = rUint8(d, 'host flag')
  if (hasHost > 1) throw new ProtocolError(`malformed host flag in ${where}`)
  const host = hasHost === 1 ? rString(d, 'host name', Limits.hostName, true) : undefined
  return host === undefined ? { id, name, kind } : { id, name, kind, host }
}

function readHello(d: decoding.Decoder): HelloMessage {
  const proto = rVarUint(d, 'protocol version')
  if (proto !== PROTOCOL_VERSION) throw new ProtocolVersionError(proto)
  const spaceId = rString(d, 'space id', 128)
  if (!isSpaceId(spaceId)) throw new ProtocolError('malformed space id in Hello')
  const peer = readPeer(d, 'Hello')
  const nonce = rFixed(d, NONCE_BYTES, 'nonce')
  const role = rEnum(d, ROLES, 'role')
  const maxFrameBytes = rVarUint(d, 'max frame size')
  if (maxFrameBytes < Limits.minFrameBytes) throw new ProtocolError(`max frame size ${maxFrameBytes} too small`)
  const bits = rVarUint(d, 'flags', 3)
  const flags: HelloFlags = { oneShot: (bits & 1) !== 0, peek: (bits & 2) !== 0 }
  return { type: 'Hello', proto, spaceId, peer, nonce, role, maxFrameBytes, flags }
}

function readDoc(d: decoding.Decoder): DocRef {
  const id = rVarUint(d, 'document id')
  return id === 0 ? { name: rString(d, 'document name', Limits.docName) } : { id }
}

function rSignature(d: decoding.Decoder): Uint8Array {
  const signature = rBytes(d, 'signature', SIGNATURE_BYTES)
  if (signature.length !== SIGNATURE_BYTES) throw new ProtocolError('signature has the wrong length')
  return signature
}

function readRelayAuth(d: decoding.Decoder): RelayAuthMessage {
  const ephemeral = rFixed(d, PUBLIC_KEY_BYTES, 'ephemeral key')
  const kind = rUint8(d, 'credential kind')
  if (kind === 0) {
    const publicKey = rFixed(d, PUBLIC_KEY_BYTES, 'public key')
    return { type: 'RelayAuth', ephemeral, credential: { kind: 'key', publicKey, signature: rSignature(d) } }
  }
  if (kind === 1) {
    const token = rString(d, 'token', Limits.token)
    return { type: 'RelayAuth', ephemeral, credential: { kind: 'token', token, signature: rSignature(d) } }
  }
  throw new ProtocolError(`unknown credential kind ${kind}`)
}

function readRelayProof(d: decoding.Decoder): RelayProofMessage {
  const relayKey = rFixed(d, PUBLIC_KEY_BYTES, 'relay key')
  const ephemeral = rFixed(d, PUBLIC_KEY_BYTES, 'ephemeral key')
  return { type: 'RelayProof', relayKey, ephemeral, signature: rSignature(d) }
}

function readPeers(d: decoding.Decoder): PeersMessage {
  // An entry takes at least 8 bytes (id ≥ 6, empty name, kind, host flag…), which bounds the count.
  const count = rVarUint(d, 'peer count', Math.floor(remaining(d) / 8))
  const peers: LivePeer[] = []
  for (let i = 0; i < count; i++) {
    const p: LivePeer = { ...readPeer(d, 'Peers'), since: rVarUint(d, 'session start') * 1000, access: rEnum(d, ACCESS_LEVELS, 'access') }
    const address = rString(d, 'address', Limits.address, true)
    if (address !== '') p.address = address
    peers.push(p)
  }
  return { type: 'Peers', peers }
}

function readPresence(d: decoding.Decoder): PresenceMessage {
  const peer = readPeer(d, 'Presence')
  const online = rUint8(d, 'online flag')
  if (online > 1) throw new ProtocolError('malformed online flag in Presence')
  const count = rVarUint(d, 'presence file count', Limits.presenceFiles)
  const files: PresenceFile[] = []
  for (let i = 0; i < count; i++) files.push({ path: rString(d, 'document name', Limits.docName), at: rVarUint(d, 'change time') * 1000 })
  const hops = rVarUint(d, 'presence hops', MAX_PRESENCE_HOPS)
  const at = rVarUint(d, 'presence time', Number.MAX_SAFE_INTEGER)
  return { type: 'Presence', peer, online: online === 1, files, hops, at }
}

/** Reads one message; throws `ProtocolError` (never anything else) on hostile or broken input. */
export function readMessage(d: decoding.Decoder): Message {
  const tag = rVarUint(d, 'message tag')
  switch (tag) {
    case MessageTag.Hello:
      return readHello(d)
    case MessageTag.Auth:
      return { type: 'Auth', signature: rSignature(d) }
    case MessageTag.Manifest: {
      // Each entry takes at least two bytes, which bounds the count by the frame size.
      const count = rVarUint(d, 'manifest size', Math.floor(remaining(d) / 2))
      const entries: ManifestEntry[] = []
      for (let i = 0; i < count; i++) entries.push({ doc: readDoc(d), stateVector: rBytes(d, 'state vector') })
      return { type: 'Manifest', entries }
    }
    case MessageTag.ManifestEnd:
      return { type: 'ManifestEnd' }
    case MessageTag.SyncStep2:
      return { type: 'SyncStep2', doc: readDoc(d), update: rBytes(d, 'update') }
    case MessageTag.Step2End:
      return { type: 'Step2End' }
    case MessageTag.Synced:
      return { type: 'Synced' }
    case MessageTag.Update:
      return { type: 'Update', doc: readDoc(d), update: rBytes(d, 'update') }
    case MessageTag.Ack: {
      const seq = rVarUint(d, 'ack sequence number', Number.MAX_SAFE_INTEGER)
      if (seq === 0) throw new ProtocolError('ack of nothing')
      return { type: 'Ack', seq }
    }
    case MessageTag.Error: {
      const code = rVarUint(d, 'error code', 4999)
      if (code < 1000) throw new ProtocolError(`error code ${code} out of range`)
      return { type: 'Error', code, message: rString(d, 'error message', Limits.errorMessage, true) }
    }
    case MessageTag.Chunk: {
      const id = rVarUint(d, 'chunk id')
      const index = rVarUint(d, 'chunk index')
      const total = rVarUint(d, 'chunk count', Limits.maxChunks)
      if (total < 2 || index >= total) throw new ProtocolError(`bad chunk ${index} of ${total}`)
      const bytes = rBytes(d, 'chunk')
      if (bytes.length === 0) throw new ProtocolError('empty chunk')
      return { type: 'Chunk', id, index, total, bytes }
    }
    case MessageTag.RelayAuth:
      return readRelayAuth(d)
    case MessageTag.Welcome:
      return { type: 'Welcome', access: rEnum(d, ACCESS_LEVELS, 'access level'), mac: rFixed(d, MAC_BYTES, 'welcome MAC') }
    case MessageTag.RelayProof:
      return readRelayProof(d)
    case MessageTag.Peers:
      return readPeers(d)
    case MessageTag.Presence:
      return readPresence(d)
    default:
      throw new ProtocolError(`unknown message tag ${tag}`)
  }
}

/** Decodes a whole frame: exactly one message, no trailing bytes. */
export function decodeMessage(frame: Uint8Array): Message {
  const d = decoding.createDecoder(frame)
  const m = readMessage(d)
  if (decoding.hasContent(d)) throw new ProtocolError(`${remaining(d)} trailing bytes after ${m.type}`)
  return m
}

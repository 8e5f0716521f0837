/**
 * The ctxsync wire protocol, version 1.
 *
 * Every frame on a transport carries exactly one message: a varUint tag (`MessageTag`) followed by the
 * message's fields, encoded with lib0 (varUint integers, varUint-length-prefixed byte arrays and UTF-8
 * strings), y-protocols style. Once both peers proved they know the space secret, frames are sealed with
 * AES-256-GCM (see `channel.ts`); the message layout inside is the same.
 *
 * A session goes:
 *
 *   dialer                                   acceptor
 *   Hello ─────────────────────────────────▶ ◀───────────────────────────────── Hello
 *   Auth (signature over both nonces) ─────▶ ◀───────────────── Auth (signature)
 *   ── both verified: frames are encrypted from here, document data may flow ──
 *   Manifest* ManifestEnd ──────────────────▶ ◀────────────────── Manifest* ManifestEnd
 *   SyncStep2* Step2End ────────────────────▶ ◀──────────────────── SyncStep2* Step2End
 *   Synced ─────────────────────────────────▶ ◀──────────────────────────────────── Synced
 *   Update / Ack, both ways, for as long as the session lives
 *
 * Manifest lists every document with its Yjs state vector; the other side answers each entry with what the
 * sender lacks (SyncStep2) and, after ManifestEnd, sends whole documents the sender did not list. Synced
 * confirms that everything up to the other side's Step2End was durably applied. Ack carries the receiver's
 * state vector after live updates, so the sender knows what reached the other disk.
 *
 * Compatibility: the tag values, the position of `proto` as Hello's first field and the layout of Error
 * are frozen, so any two versions can at least tell each other that they differ and why they hang up.
 *
 * A message whose encoding exceeds the frame limit travels as a series of Chunk messages that the receiver
 * reassembles (`chunking.ts`). `readMessage` trusts nothing: every length is checked against the bytes that
 * remain and every field against its bounds, and all failures are `ProtocolError`s.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { CtxError } from '../errors.js'
import { isPeerId, isSpaceId, type SpaceId } from '../ids.js'
import type { PeerInfo, PeerKind } from './SyncHost.js'
import { CloseCode } from './TransportInterface.js'

export const PROTOCOL_VERSION = 1

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
} as const
export type MessageType = keyof typeof MessageTag

export type Role = 'dial' | 'accept'
export const NONCE_BYTES = 32
export const SIGNATURE_BYTES = 64

/** Field bounds; anything beyond them is hostile or broken. */
export const Limits = {
  docName: 4096,
  peerName: 256,
  hostName: 256,
  errorMessage: 2048,
  maxChunks: 1 << 20,
  minFrameBytes: 1024,
} as const

export interface HelloMessage {
  type: 'Hello'
  proto: number
  spaceId: SpaceId
  peer: PeerInfo
  nonce: Uint8Array
  role: Role
  /** The largest frame this peer accepts; the other side chunks below it. */
  maxFrameBytes: number
}
export interface AuthMessage { type: 'Auth'; signature: Uint8Array }
export interface ManifestEntry { doc: string; stateVector: Uint8Array }
export interface ManifestMessage { type: 'Manifest'; entries: ManifestEntry[] }
export interface ManifestEndMessage { type: 'ManifestEnd' }
export interface SyncStep2Message { type: 'SyncStep2'; doc: string; update: Uint8Array }
export interface Step2EndMessage { type: 'Step2End' }
export interface SyncedMessage { type: 'Synced' }
export interface UpdateMessage { type: 'Update'; doc: string; update: Uint8Array }
export interface AckMessage { type: 'Ack'; doc: string; stateVector: Uint8Array }
export interface ErrorMessage { type: 'Error'; code: number; message: string }
export interface ChunkMessage { type: 'Chunk'; id: number; index: number; total: number; bytes: Uint8Array }

export type Message =
  | HelloMessage | AuthMessage | ManifestMessage | ManifestEndMessage | SyncStep2Message | Step2EndMessage
  | SyncedMessage | UpdateMessage | AckMessage | ErrorMessage | ChunkMessage

export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>

const guard = <T extends MessageType>(type: T) => (m: Message): m is MessageOf<T> => m.type === type
export const isHello = guard('Hello')
export const isAuth = guard('Auth')
export const isManifest = guard('Manifest')
export const isManifestEnd = guard('ManifestEnd')
export const isSyncStep2 = guard('SyncStep2')
export const isStep2End = guard('Step2End')
export const isSynced = guard('Synced')
export const isUpdate = guard('Update')
export const isAck = guard('Ack')
export const isError = guard('Error')
export const isChunk = guard('Chunk')

/** A malformed, truncated, oversized or out-of-place message; the session closes with `closeCode`. */
export class ProtocolError extends CtxError {
  readonly closeCode: number
  constructor(message: string, closeCode: number = CloseCode.ProtocolError) {
    super('protocol', message)
    this.name = 'ProtocolError'
    this.closeCode = closeCode
  }
}

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

const KINDS: readonly PeerKind[] = ['human', 'agent']
const ROLES: readonly Role[] = ['dial', 'accept']

export function writeMessage(enc: encoding.Encoder, m: Message): void {
  encoding.writeVarUint(enc, MessageTag[m.type])
  switch (m.type) {
    case 'Hello':
      encoding.writeVarUint(enc, m.proto)
      encoding.writeVarString(enc, m.spaceId)
      encoding.writeVarString(enc, m.peer.id)
      encoding.writeVarString(enc, m.peer.name)
      encoding.writeUint8(enc, KINDS.indexOf(m.peer.kind))
      encoding.writeUint8(enc, m.peer.host === undefined ? 0 : 1)
      if (m.peer.host !== undefined) encoding.writeVarString(enc, m.peer.host)
      encoding.writeUint8Array(enc, m.nonce)
      encoding.writeUint8(enc, ROLES.indexOf(m.role))
      encoding.writeVarUint(enc, m.maxFrameBytes)
      return
    case 'Auth':
      encoding.writeVarUint8Array(enc, m.signature)
      return
    case 'Manifest':
      encoding.writeVarUint(enc, m.entries.length)
      for (const e of m.entries) {
        encoding.writeVarString(enc, e.doc)
        encoding.writeVarUint8Array(enc, e.stateVector)
      }
      return
    case 'SyncStep2':
    case 'Update':
      encoding.writeVarString(enc, m.doc)
      encoding.writeVarUint8Array(enc, m.update)
      return
    case 'Ack':
      encoding.writeVarString(enc, m.doc)
      encoding.writeVarUint8Array(enc, m.stateVector)
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
    case 'ManifestEnd':
    case 'Step2End':
    case 'Synced':
      return
  }
}

export function encodeMessage(m: Message): Uint8Array {
  const enc = encoding.createEncoder()
  writeMessage(enc, m)
  return encoding.toUint8Array(enc)
}

// ── Checked readers: lib0's readers assume well-formed input (readUint8 returns undefined past the end). ──

const remaining = (d: decoding.Decoder): number => d.arr.length - d.pos

function need(d: decoding.Decoder, n: number, what: string): void {
  if (n > remaining(d)) throw new ProtocolError(`truncated ${what}`)
}

function rUint8(d: decoding.Decoder, what: string): number {
  need(d, 1, what)
  return d.arr[d.pos++]!
}

function rVarUint(d: decoding.Decoder, what: string, max = 0xffffffff): number {
  let n: number
  try {
    n = decoding.readVarUint(d)
  } catch {
    throw new ProtocolError(`truncated or overlong ${what}`)
  }
  if (n > max) throw new ProtocolError(`${what} out of range (${n} > ${max})`)
  return n
}

function rFixed(d: decoding.Decoder, n: number, what: string): Uint8Array {
  need(d, n, what)
  // Copy: frames may be views on pooled socket buffers, and Yjs may keep binary content alive.
  const out = d.arr.slice(d.pos, d.pos + n)
  d.pos += n
  return out
}

function rBytes(d: decoding.Decoder, what: string, max = Number.MAX_SAFE_INTEGER): Uint8Array {
  const len = rVarUint(d, `${what} length`, Math.min(max, remaining(d)))
  return rFixed(d, len, what)
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function rString(d: decoding.Decoder, what: string, maxBytes: number, allowEmpty = false): string {
  const bytes = rBytes(d, what, maxBytes)
  if (bytes.length === 0 && !allowEmpty) throw new ProtocolError(`empty ${what}`)
  try {
    return utf8.decode(bytes)
  } catch {
    throw new ProtocolError(`${what} is not valid UTF-8`)
  }
}

function readHello(d: decoding.Decoder): HelloMessage {
  const proto = rVarUint(d, 'protocol version')
  if (proto !== PROTOCOL_VERSION) throw new ProtocolVersionError(proto)
  const spaceId = rString(d, 'space id', 128)
  if (!isSpaceId(spaceId)) throw new ProtocolError('malformed space id in Hello')
  const id = rString(d, 'peer id', 128)
  if (!isPeerId(id)) throw new ProtocolError('malformed peer id in Hello')
  const name = rString(d, 'peer name', Limits.peerName, true)
  const kind = KINDS[rUint8(d, 'peer kind')]
  if (kind === undefined) throw new ProtocolError('unknown peer kind in Hello')
  const hasHost = rUint8(d, 'host flag')
  if (hasHost > 1) throw new ProtocolError('malformed host flag in Hello')
  const host = hasHost === 1 ? rString(d, 'host name', Limits.hostName, true) : undefined
  const nonce = rFixed(d, NONCE_BYTES, 'nonce')
  const role = ROLES[rUint8(d, 'role')]
  if (role === undefined) throw new ProtocolError('unknown role in Hello')
  const maxFrameBytes = rVarUint(d, 'max frame size')
  if (maxFrameBytes < Limits.minFrameBytes) throw new ProtocolError(`max frame size ${maxFrameBytes} too small`)
  const peer: PeerInfo = host === undefined ? { id, name, kind } : { id, name, kind, host }
  return { type: 'Hello', proto, spaceId, peer, nonce, role, maxFrameBytes }
}

const rDoc = (d: decoding.Decoder): string => rString(d, 'document name', Limits.docName)

/** Reads one message; throws `ProtocolError` (never anything else) on hostile or broken input. */
export function readMessage(d: decoding.Decoder): Message {
  const tag = rVarUint(d, 'message tag')
  switch (tag) {
    case MessageTag.Hello:
      return readHello(d)
    case MessageTag.Auth: {
      const signature = rBytes(d, 'signature', SIGNATURE_BYTES)
      if (signature.length !== SIGNATURE_BYTES) throw new ProtocolError('signature has the wrong length')
      return { type: 'Auth', signature }
    }
    case MessageTag.Manifest: {
      // Each entry takes at least two bytes, which bounds the count by the frame size.
      const count = rVarUint(d, 'manifest size', Math.floor(remaining(d) / 2))
      const entries: ManifestEntry[] = []
      for (let i = 0; i < count; i++) entries.push({ doc: rDoc(d), stateVector: rBytes(d, 'state vector') })
      return { type: 'Manifest', entries }
    }
    case MessageTag.ManifestEnd:
      return { type: 'ManifestEnd' }
    case MessageTag.SyncStep2:
      return { type: 'SyncStep2', doc: rDoc(d), update: rBytes(d, 'update') }
    case MessageTag.Step2End:
      return { type: 'Step2End' }
    case MessageTag.Synced:
      return { type: 'Synced' }
    case MessageTag.Update:
      return { type: 'Update', doc: rDoc(d), update: rBytes(d, 'update') }
    case MessageTag.Ack:
      return { type: 'Ack', doc: rDoc(d), stateVector: rBytes(d, 'state vector') }
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

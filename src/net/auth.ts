/**
 * Space credentials and the mutual challenge–response that proves knowledge of the space secret.
 *
 * From the secret we derive, with HKDF-SHA256 bound to the space id, (a) a 32-byte Ed25519 seed, whose key
 * pair is the space's signing identity, and (b) a session root from which per-connection AEAD keys come
 * (`channel.ts`). The public key derives deterministically, so a relay can later verify proofs while
 * holding only `spacePublicKey(secret, spaceId)`, never the secret.
 *
 * Each side signs a transcript binding the space, its own role, both fresh nonces and both peer ids, and
 * checks the other's signature with its own public key: a valid signature means the other side derived the
 * same key pair, i.e. knows the secret. Signer role and nonce order stop a peer from reflecting our own
 * proof back at us; fresh nonces stop replays. Fields are length-prefixed so none can bleed into another.
 *
 * A peer proving the secret to a relay signs another transcript under another label (`relay-auth.ts`): the
 * relay holds only the public key and cannot answer in kind, and a proof made for a relay must never pass as
 * one made for a peer (a relay could otherwise present it to a peer in the dialer's name).
 *
 * The secret itself never crosses the wire. HKDF is not a password hash: secrets are expected to be long
 * random tokens (as `init` generates), not words a person picked.
 */
import { createPrivateKey, createPublicKey, hkdfSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto'
import { CtxError } from '../errors.js'
import type { PeerId, SpaceId } from '../ids.js'
import { NONCE_BYTES, type Role } from './protocol.js'

const SALT = 'ctxsync-space/1'
const TRANSCRIPT_LABEL = 'ctxsync-auth/1'
// RFC 8410 DER prefixes: wrapping a raw seed / raw public key is all node:crypto needs to import them.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export interface SpaceCredentials {
  readonly spaceId: SpaceId
  /** Raw 32-byte Ed25519 public key of the space. */
  readonly publicKey: Uint8Array
  /** Key material for per-session AEAD keys; never sent anywhere. */
  readonly sessionRoot: Uint8Array
  sign(data: Uint8Array): Uint8Array
  verify(data: Uint8Array, signature: Uint8Array): boolean
}

function derive(secret: string, spaceId: SpaceId, purpose: string): Buffer {
  if (secret.length === 0) throw new CtxError('no-secret', 'the space secret is empty: run `ctxsync init` or set it')
  const info = Buffer.concat([Buffer.from(`${purpose}\0`), Buffer.from(spaceId)])
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), SALT, info, 32))
}

function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ type: 'spki', format: 'der' })
  return new Uint8Array(der.subarray(der.length - 32))
}

/** Imports a raw 32-byte Ed25519 public key (as a relay would store it). */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError('an Ed25519 public key has 32 bytes')
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' })
}

export function deriveCredentials(secret: string, spaceId: SpaceId): SpaceCredentials {
  const privateKey = privateKeyFromSeed(derive(secret, spaceId, 'ctxsync-sign/1'))
  const publicKeyObject = createPublicKey(privateKey)
  const sessionRoot = new Uint8Array(derive(secret, spaceId, 'ctxsync-session-root/1'))
  return {
    spaceId,
    publicKey: rawPublicKey(publicKeyObject),
    sessionRoot,
    sign: (data) => new Uint8Array(sign(null, data, privateKey)),
    verify: (data, signature) => verifySignature(publicKeyObject, data, signature),
  }
}

/** The space's public key: enough to verify proofs, useless for producing them. */
export function spacePublicKey(secret: string, spaceId: SpaceId): Uint8Array {
  return rawPublicKey(createPublicKey(privateKeyFromSeed(derive(secret, spaceId, 'ctxsync-sign/1'))))
}

export function verifySignature(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, data, publicKey, signature)
  } catch {
    return false
  }
}

export const newNonce = (): Uint8Array => new Uint8Array(randomBytes(NONCE_BYTES))

export interface TranscriptInput {
  spaceId: SpaceId
  signerRole: Role
  verifierNonce: Uint8Array
  signerNonce: Uint8Array
  signerId: PeerId
  verifierId: PeerId
  /** A digest of both Hellos as sent (`helloDigest`): names, kinds, hosts and flags are bound too. */
  hellos?: Uint8Array
}

/** `label ‖ spaceId ‖ signer role ‖ verifier nonce ‖ signer nonce ‖ signer id ‖ verifier id ‖ hellos`, each length-prefixed. */
export function authTranscript(t: TranscriptInput, label = TRANSCRIPT_LABEL): Uint8Array {
  const fields: Uint8Array[] = [
    Buffer.from(label),
    Buffer.from(t.spaceId),
    Buffer.from(t.signerRole),
    t.verifierNonce,
    t.signerNonce,
    Buffer.from(t.signerId),
    Buffer.from(t.verifierId),
    t.hellos ?? new Uint8Array(0),
  ]
  return lengthPrefixed(fields)
}

/** Each field behind its 4-byte length, so no field can slide into the next one in what gets signed. */
export function lengthPrefixed(fields: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = []
  for (const f of fields) {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(f.length)
    parts.push(len, f)
  }
  return new Uint8Array(Buffer.concat(parts))
}

export const signProof = (creds: SpaceCredentials, t: TranscriptInput): Uint8Array => creds.sign(authTranscript(t))

export const verifyProof = (creds: SpaceCredentials, t: TranscriptInput, signature: Uint8Array): boolean =>
  creds.verify(authTranscript(t), signature)

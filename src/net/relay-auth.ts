/**
 * How a peer and a relay prove themselves to each other, and the keys of their channel.
 *
 * A relay holds no space secret, so the peer-to-peer proof (`auth.ts`, both sides sign with the space key)
 * cannot work both ways. Instead (protocol v5):
 *
 *   dialer                                              relay
 *   Hello (nonce_d) ──────────────────────────────────▶
 *                   ◀──────────────────────────────── Hello (kind relay, nonce_r)
 *                   ◀──────────── RelayProof (relay key K, ephemeral X25519 e_r, sig_K(transcript))
 *   checks K against the key pinned for the space (ctxsync.yaml `registry-key`), checks sig_K
 *   RelayAuth (ephemeral e_d, credential) ────────────▶ checks the credential's signature
 *                   ◀──────────────────────────── Welcome (access, MAC under the channel key)
 *   ── frames sealed with keys from X25519(e_d, e_r), salted with the transcript ──
 *
 * The relay's signature covers both nonces, both peer ids, the space, its ephemeral key and its own key: it
 * proves the endpoint holds the pinned relay key *now*, for this dialer. The dialer's credential — a
 * signature with the space key, or a token plus a signature with the token's holder key (proof of
 * possession, `tokens.ts`) — covers the same fields plus both ephemeral keys. So:
 *
 * - a proof made for one endpoint is worthless at another: it names that endpoint's key and nonce;
 * - a man in the middle that forwards every frame unchanged learns nothing and cannot inject: the channel
 *   keys come from an X25519 exchange whose two halves are each signed by one end;
 * - a token is never sent before the relay proved the pinned key, and what is sent cannot be replayed.
 *
 * The first contact with a relay that no key is pinned for yet is trust on first use: the key it presents
 * is pinned once it welcomed us (`onPin`), and every later contact must present the same key.
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, sign, timingSafeEqual, type KeyObject } from 'node:crypto'
import type { PeerId, SpaceId } from '../ids.js'
import { lengthPrefixed, publicKeyFromRaw, verifySignature } from './auth.js'

/** What the relay signs: its proof of holding the relay key, for this connection. */
export const RELAY_ID_LABEL = 'ctxsync-relay-id/1'
/** What a dialer signs with the space key to be admitted by a relay. */
export const RELAY_AUTH_LABEL = 'ctxsync-relay-auth/2'
/** What a token holder signs with the token's holder key (proof of possession). */
export const TOKEN_POP_LABEL = 'ctxsync-token-pop/1'

export const KEY_BYTES = 32
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')

/** An Ed25519 key pair held as a raw 32-byte seed: the relay's identity, or a token's holder key. */
export interface SigningKey {
  readonly publicKey: Uint8Array
  sign(data: Uint8Array): Uint8Array
}

export function signingKeyFromSeed(seed: Uint8Array): SigningKey {
  if (seed.length !== KEY_BYTES) throw new RangeError('an Ed25519 seed has 32 bytes')
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' })
  return {
    publicKey: new Uint8Array(der.subarray(der.length - KEY_BYTES)),
    sign: (data) => new Uint8Array(sign(null, data, privateKey)),
  }
}

export const newSeed = (): Uint8Array => new Uint8Array(randomBytes(KEY_BYTES))

/** One side's ephemeral X25519 key pair: made per connection, never stored. */
export interface Ephemeral {
  readonly publicKey: Uint8Array
  /** The shared secret with the other side's ephemeral public key; throws RangeError on a bad key. */
  agree(theirs: Uint8Array): Uint8Array
}

export function newEphemeral(): Ephemeral {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  const der = publicKey.export({ type: 'spki', format: 'der' })
  return {
    publicKey: new Uint8Array(der.subarray(der.length - KEY_BYTES)),
    agree(theirs) {
      if (theirs.length !== KEY_BYTES) throw new RangeError('an X25519 public key has 32 bytes')
      let other: KeyObject
      try {
        other = createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, theirs]), format: 'der', type: 'spki' })
      } catch {
        throw new RangeError('not an X25519 public key')
      }
      const shared = diffieHellman({ privateKey, publicKey: other })
      // An all-zero result means a low-order point: the other side forced a known secret.
      if (shared.every((b) => b === 0)) throw new RangeError('a degenerate X25519 public key')
      return new Uint8Array(shared)
    },
  }
}

/** Everything both ends of a relay connection agree on once the relay's proof arrived. */
export interface RelayTranscript {
  spaceId: SpaceId
  dialerNonce: Uint8Array
  relayNonce: Uint8Array
  dialerId: PeerId
  relayId: PeerId
  relayKey: Uint8Array
  relayEphemeral: Uint8Array
  /** `helloDigest` of both Hellos as sent: the dialer's name, kind, host and flags are bound too. */
  hellos: Uint8Array
  /** Absent in what the relay signs (it speaks before the dialer chose its ephemeral key). */
  dialerEphemeral?: Uint8Array
}

/** `label ‖ fields`, each length-prefixed so none can bleed into another. */
export function relayTranscript(label: string, t: RelayTranscript): Uint8Array {
  const fields: Uint8Array[] = [
    Buffer.from(label), Buffer.from(t.spaceId), t.dialerNonce, t.relayNonce, Buffer.from(t.dialerId),
    Buffer.from(t.relayId), t.relayKey, t.relayEphemeral, t.hellos, t.dialerEphemeral ?? new Uint8Array(0),
  ]
  return lengthPrefixed(fields)
}

export function verifyWith(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  let key: KeyObject
  try {
    key = publicKeyFromRaw(publicKey)
  } catch {
    return false
  }
  return verifySignature(key, data, signature)
}

/** SHA-256 over both Hellos as encoded (dialer's first): what each side claimed before proving anything. */
export function helloDigest(dialer: Uint8Array, acceptor: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(lengthPrefixed([dialer, acceptor])).digest())
}

/** The root of the channel keys: the X25519 secret, bound to the whole transcript (both ephemerals in it). */
export function channelRoot(shared: Uint8Array, t: RelayTranscript): Uint8Array {
  const digest = createHash('sha256').update(relayTranscript('ctxsync-relay-channel/1', t)).digest()
  return new Uint8Array(hkdfSync('sha256', shared, digest, 'ctxsync-relay-root/1', 32))
}

/** The Welcome's MAC: the dialer learns the access it was granted from the relay, unaltered. */
export function welcomeMac(root: Uint8Array, access: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', root).update(`ctxsync-welcome/1\0${access}`).digest())
}

export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** How a relay key is written in ctxsync.yaml, tokens and messages. */
export const formatKey = (key: Uint8Array): string => Buffer.from(key).toString('base64url')

export function parseKey(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return null
  const raw = Buffer.from(text, 'base64url')
  return raw.length === KEY_BYTES ? new Uint8Array(raw) : null
}

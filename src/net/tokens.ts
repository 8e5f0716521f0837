/**
 * Relay tokens: credentials for one space and one role, signed with the space's Ed25519 key (the key derived
 * from the secret, `auth.ts`), so a relay verifies them with the public key it registered for the space and
 * needs no database. Whoever holds the secret can mint them (`ctxsync token create`); a token never lets
 * anyone derive the secret or talk to peers directly, only to a relay.
 *
 * Tokens are proof-of-possession, not bearer credentials: each carries its own holder key pair. The claims
 * name the holder's public key (`cnf`); the token string a person is given ends with the holder's private
 * seed, which never leaves the machine. On the wire a dialer shows the token without the seed plus a
 * signature with the holder key over the relay transcript (`relay-auth.ts`), which names the relay's key and
 * both nonces. So a token seen by a fake or forwarding endpoint cannot be replayed anywhere.
 *
 * Format: `ctxsync-token2.<claims>.<signature>.<holder seed>` (each base64url); the part shown to a relay
 * stops before the seed. The signature covers `"ctxsync-token/2\0" ‖ the claims' bytes as sent` (a distinct
 * label: never a valid handshake proof, nor the reverse). Claims: `{space, role, exp, jti, cnf, relay?}` —
 * `exp` in seconds since the epoch or null for no expiry, `jti` a random id (for logs; there is no revocation
 * list: keep expiries short, or move the space to a new secret), `relay` the relay key pinned for the space
 * when the token was made, so a token holder without ctxsync.yaml's pin still checks the relay.
 */
import { randomBytes } from 'node:crypto'
import { CtxError, ExitCode } from '../errors.js'
import { isSpaceId, type SpaceId } from '../ids.js'
import { publicKeyFromRaw, verifySignature, type SpaceCredentials } from './auth.js'
import { ACCESS_LEVELS, Limits, type Access } from './protocol.js'
import { formatKey, newSeed, parseKey, signingKeyFromSeed, type SigningKey } from './relay-auth.js'

export const TOKEN_PREFIX = 'ctxsync-token2.'
const OLD_PREFIX = 'ctxsync-token1.'
const TOKEN_LABEL = 'ctxsync-token/2\0'

export interface TokenClaims {
  space: SpaceId
  role: Access
  /** Seconds since the epoch after which the token is refused; null: never. */
  exp: number | null
  jti: string
  /** The holder's Ed25519 public key (base64url): the key its proof of possession is checked with. */
  cnf: string
  /** The relay key pinned for the space when the token was made (base64url), if any. */
  relay?: string
}

/** A token that is malformed, tampered with, expired, or for another space. Refused with 4401. */
export class TokenError extends CtxError {
  constructor(message: string) {
    super('bad-token', message, ExitCode.AccessRefused)
    this.name = 'TokenError'
  }
}

const signed = (claimBytes: Uint8Array): Buffer => Buffer.concat([Buffer.from(TOKEN_LABEL), claimBytes])

export interface TokenRequest {
  role: Access
  exp: number | null
  jti?: string
  /** The relay key pinned for the space, carried so the holder can check the relay. */
  relay?: Uint8Array
}

/** A new token (with its holder seed: give it only to the one who will use it). */
export function signToken(creds: SpaceCredentials, req: TokenRequest): string {
  const seed = newSeed()
  const full: TokenClaims = {
    space: creds.spaceId, role: req.role, exp: req.exp, jti: req.jti ?? randomBytes(9).toString('base64url'),
    cnf: formatKey(signingKeyFromSeed(seed).publicKey), ...(req.relay ? { relay: formatKey(req.relay) } : {}),
  }
  const bytes = Buffer.from(JSON.stringify(full), 'utf8')
  const sig = creds.sign(signed(bytes))
  return `${TOKEN_PREFIX}${bytes.toString('base64url')}.${Buffer.from(sig).toString('base64url')}.${Buffer.from(seed).toString('base64url')}`
}

interface Parsed {
  claims: TokenClaims
  claimBytes: Buffer
  signature: Buffer
  /** The part a relay is shown. */
  presented: string
  seed: Buffer | null
}

function parse(token: string): Parsed {
  const bad = (why: string) => new TokenError(`not a valid ctxsync token (${why}): create one with \`ctxsync token create\``)
  if (token.length > Limits.token) throw bad('too long')
  if (token.startsWith(OLD_PREFIX)) {
    throw new TokenError('this token is of an older kind (ctxsync-token1): anyone who saw it could use it, so relays no longer accept it; create a new one with `ctxsync token create`')
  }
  if (!token.startsWith(TOKEN_PREFIX)) throw bad(`it does not start with ${TOKEN_PREFIX}`)
  const parts = token.slice(TOKEN_PREFIX.length).split('.')
  if ((parts.length !== 2 && parts.length !== 3) || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) throw bad('malformed')
  const seed = parts.length === 3 ? Buffer.from(parts[2]!, 'base64url') : null
  if (seed && seed.length !== 32) throw bad('bad holder key')
  const claimBytes = Buffer.from(parts[0]!, 'base64url')
  const signature = Buffer.from(parts[1]!, 'base64url')
  let v: Partial<Record<keyof TokenClaims, unknown>>
  try {
    v = JSON.parse(claimBytes.toString('utf8')) as typeof v
  } catch {
    throw bad('unreadable claims')
  }
  if (!v || typeof v !== 'object') throw bad('unreadable claims')
  if (!isSpaceId(v.space)) throw bad('no space')
  if (!ACCESS_LEVELS.includes(v.role as Access)) throw bad('unknown role')
  if (v.exp !== null && !(typeof v.exp === 'number' && Number.isInteger(v.exp) && v.exp > 0)) throw bad('bad expiry')
  if (typeof v.jti !== 'string' || v.jti.length > 64) throw bad('bad id')
  if (typeof v.cnf !== 'string' || !parseKey(v.cnf)) throw bad('no holder key')
  if (v.relay !== undefined && (typeof v.relay !== 'string' || !parseKey(v.relay))) throw bad('bad relay key')
  const claims: TokenClaims = { space: v.space, role: v.role as Access, exp: v.exp, jti: v.jti, cnf: v.cnf, ...(v.relay ? { relay: v.relay as string } : {}) }
  return { claims, claimBytes, signature, presented: `${TOKEN_PREFIX}${parts[0]}.${parts[1]}`, seed }
}

/** The claims a token states, unverified: for showing a user what they hold, never for granting access. */
export function readToken(token: string): TokenClaims {
  return parse(token.trim()).claims
}

/** What a token holder needs to dial a relay: the part to show and the key to prove possession with. */
export function holderOf(token: string): { presented: string; key: SigningKey; claims: TokenClaims } {
  const p = parse(token.trim())
  if (!p.seed) throw new TokenError('this token lacks its holder key (the part after the third dot): copy the whole token that `ctxsync token create` printed')
  const key = signingKeyFromSeed(p.seed)
  if (formatKey(key.publicKey) !== p.claims.cnf) throw new TokenError('the holder key does not belong to this token: copy the whole token that `ctxsync token create` printed')
  return { presented: p.presented, key, claims: p.claims }
}

/**
 * The claims of a token this relay may honour for `space`, checked against the space's registered public
 * key; throws TokenError saying why not.
 */
export function verifyToken(token: string, publicKey: Uint8Array, space: SpaceId, nowMs = Date.now()): TokenClaims {
  const { claims, claimBytes, signature, seed } = parse(token)
  // A holder seed on the wire means the dialer gave away its key: the token is spent, refuse it.
  if (seed) throw new TokenError('token refused: it was sent with its holder key, which must never leave the holder; create a new one with `ctxsync token create`')
  // Signature first: what an unverified token claims (its space, its expiry) is not worth reporting.
  if (!verifySignature(publicKeyFromRaw(publicKey), signed(claimBytes), signature)) {
    throw new TokenError("token refused: its signature does not match this space's key (tampered with, or made for another space)")
  }
  if (claims.space !== space) throw new TokenError(`token refused: it is for space ${claims.space}, not ${space}`)
  if (claims.exp !== null && claims.exp * 1000 <= nowMs) {
    throw new TokenError(`token refused: it expired at ${new Date(claims.exp * 1000).toISOString()}; create a new one with \`ctxsync token create\``)
  }
  return claims
}

/**
 * Relay tokens: bearer credentials for one space and one role, signed with the space's Ed25519 key (the key
 * derived from the secret, `auth.ts`), so a relay verifies them with the public key it registered for the
 * space and needs no database. Whoever holds the secret can mint them (`ctxsync token create`); a token
 * never lets anyone derive the secret or talk to peers directly, only to a relay.
 *
 * Format: `ctxsync-token1.<base64url JSON claims>.<base64url signature>`, the signature covering
 * `"ctxsync-token/1\0" ‖ the claims' bytes as sent` (a distinct label: a token signature is never a valid
 * handshake proof, nor the reverse). Claims: `{space, role, exp, jti}` — `exp` in seconds since the epoch
 * or null for no expiry, `jti` a random id that makes every token distinct (for logs; there is no
 * revocation list: keep expiries short, or move the space to a new secret).
 *
 * Tokens are bearer credentials: anyone who sees one can use it until it expires, so they travel only to
 * relays, over TLS (wss://) when that leaves the machine.
 */
import { randomBytes } from 'node:crypto'
import { CtxError, ExitCode } from '../errors.js'
import { isSpaceId, type SpaceId } from '../ids.js'
import { publicKeyFromRaw, verifySignature, type SpaceCredentials } from './auth.js'
import { ACCESS_LEVELS, Limits, type Access } from './protocol.js'

export const TOKEN_PREFIX = 'ctxsync-token1.'
const TOKEN_LABEL = 'ctxsync-token/1\0'

export interface TokenClaims {
  space: SpaceId
  role: Access
  /** Seconds since the epoch after which the token is refused; null: never. */
  exp: number | null
  jti: string
}

/** A token that is malformed, tampered with, expired, or for another space. Refused with 4401. */
export class TokenError extends CtxError {
  constructor(message: string) {
    super('bad-token', message, ExitCode.AccessRefused)
    this.name = 'TokenError'
  }
}

const signed = (claimBytes: Uint8Array): Buffer => Buffer.concat([Buffer.from(TOKEN_LABEL), claimBytes])

export function signToken(creds: SpaceCredentials, claims: Omit<TokenClaims, 'space' | 'jti'> & { jti?: string }): string {
  const full: TokenClaims = { space: creds.spaceId, role: claims.role, exp: claims.exp, jti: claims.jti ?? randomBytes(9).toString('base64url') }
  const bytes = Buffer.from(JSON.stringify(full), 'utf8')
  const sig = creds.sign(signed(bytes))
  return `${TOKEN_PREFIX}${bytes.toString('base64url')}.${Buffer.from(sig).toString('base64url')}`
}

interface Parsed {
  claims: TokenClaims
  claimBytes: Buffer
  signature: Buffer
}

function parse(token: string): Parsed {
  const bad = (why: string) => new TokenError(`not a valid ctxsync token (${why}): create one with \`ctxsync token create\``)
  if (token.length > Limits.token) throw bad('too long')
  if (!token.startsWith(TOKEN_PREFIX)) throw bad(`it does not start with ${TOKEN_PREFIX}`)
  const parts = token.slice(TOKEN_PREFIX.length).split('.')
  if (parts.length !== 2 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) throw bad('malformed')
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
  return { claims: { space: v.space, role: v.role as Access, exp: v.exp, jti: v.jti }, claimBytes, signature }
}

/** The claims a token states, unverified: for showing a user what they hold, never for granting access. */
export function readToken(token: string): TokenClaims {
  return parse(token.trim()).claims
}

/**
 * The claims of a token this relay may honour for `space`, checked against the space's registered public
 * key; throws TokenError saying why not.
 */
export function verifyToken(token: string, publicKey: Uint8Array, space: SpaceId, nowMs = Date.now()): TokenClaims {
  const { claims, claimBytes, signature } = parse(token)
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

import { describe, expect, it } from 'vitest'
import { newSpaceId } from '../../src/ids.js'
import { deriveCredentials, signProof } from '../../src/net/auth.js'
import { holderOf, readToken, signToken, TOKEN_PREFIX, TokenError, verifyToken } from '../../src/net/tokens.js'
import { formatKey, newSeed, signingKeyFromSeed } from '../../src/net/relay-auth.js'
import { SECRET } from './helpers.js'

const space = newSpaceId()
const creds = deriveCredentials(SECRET, space)
const now = Date.parse('2030-01-01T00:00:00Z')
const inSeconds = (s: number) => Math.floor(now / 1000) + s

function refused(f: () => unknown, why: RegExp): void {
  let err: unknown
  try {
    f()
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(TokenError)
  expect((err as Error).message).toMatch(why)
  expect((err as TokenError).exitCode).toBe(5)
}

/** What a dialer shows a relay: the token without its holder seed. */
const shown = (token: string): string => holderOf(token).presented

/** The shown token with its claims replaced but the original signature kept. */
function withClaims(token: string, change: (c: Record<string, unknown>) => Record<string, unknown>): string {
  const [claims, sig] = shown(token).slice(TOKEN_PREFIX.length).split('.') as [string, string]
  const c = JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, unknown>
  return `${TOKEN_PREFIX}${Buffer.from(JSON.stringify(change(c))).toString('base64url')}.${sig}`
}

describe('tokens', () => {
  it('sign → verify with the public key alone, for each role; readToken shows the claims', () => {
    for (const role of ['read', 'write', 'admin'] as const) {
      const t = signToken(creds, { role, exp: inSeconds(3600) })
      expect(t.startsWith(TOKEN_PREFIX)).toBe(true)
      const c = verifyToken(shown(t), creds.publicKey, space, now)
      expect(c).toMatchObject({ space, role, exp: inSeconds(3600) })
      expect(readToken(t)).toEqual(c)
    }
    const forever = signToken(creds, { role: 'read', exp: null })
    expect(verifyToken(shown(forever), creds.publicKey, space, now + 1e12).exp).toBeNull()
    // Every token is distinct, even with equal claims.
    expect(signToken(creds, { role: 'read', exp: null })).not.toBe(forever)
  })

  it('refuses an expired token', () => {
    const t = signToken(creds, { role: 'write', exp: inSeconds(-1) })
    refused(() => verifyToken(shown(t), creds.publicKey, space, now), /expired at 2029-12-31T23:59:59/)
  })

  it('refuses a tampered token: a changed role, expiry or space, or a changed signature', () => {
    const t = signToken(creds, { role: 'read', exp: inSeconds(60) })
    refused(() => verifyToken(withClaims(t, (c) => ({ ...c, role: 'admin' })), creds.publicKey, space, now), /signature does not match/)
    refused(() => verifyToken(withClaims(t, (c) => ({ ...c, exp: null })), creds.publicKey, space, now), /signature does not match/)
    const p = shown(t)
    const flipped = p.slice(0, -3) + (p.at(-3) === 'A' ? 'B' : 'A') + p.slice(-2)
    refused(() => verifyToken(flipped, creds.publicKey, space, now), /signature does not match/)
  })

  it('refuses a token of another space, and one signed with another secret', () => {
    const other = newSpaceId()
    const theirs = signToken(deriveCredentials(SECRET, other), { role: 'write', exp: null })
    refused(() => verifyToken(shown(theirs), creds.publicKey, space, now), /signature does not match/)
    // Even with the right key, a token naming another space is refused.
    const cross = signToken({ ...creds, spaceId: other }, { role: 'write', exp: null })
    refused(() => verifyToken(shown(cross), creds.publicKey, space, now), /it is for space/)
    const wrongSecret = signToken(deriveCredentials(`${SECRET}-not`, space), { role: 'write', exp: null })
    refused(() => verifyToken(shown(wrongSecret), creds.publicKey, space, now), /signature does not match/)
  })

  it('refuses malformed tokens and unknown roles; a handshake signature is not a token signature', () => {
    refused(() => verifyToken('hello', creds.publicKey, space, now), /does not start with/)
    refused(() => verifyToken(`${TOKEN_PREFIX}abc`, creds.publicKey, space, now), /malformed/)
    refused(() => verifyToken(`${TOKEN_PREFIX}!!!.???`, creds.publicKey, space, now), /malformed/)
    refused(() => verifyToken(`${TOKEN_PREFIX}${'a'.repeat(5000)}.b`, creds.publicKey, space, now), /too long/)
    const t = signToken(creds, { role: 'read', exp: null })
    refused(() => verifyToken(withClaims(t, (c) => ({ ...c, role: 'root' })), creds.publicKey, space, now), /unknown role/)
    // Signing the claims bytes the way a handshake proof is signed does not make a valid token.
    const claims = shown(t).slice(TOKEN_PREFIX.length).split('.')[0]!
    const proof = signProof(creds, {
      spaceId: space, signerRole: 'dial', verifierNonce: Buffer.from(claims), signerNonce: new Uint8Array(0),
      signerId: 'p-aaaa' as never, verifierId: 'p-bbbb' as never,
    })
    refused(() => verifyToken(`${TOKEN_PREFIX}${claims}.${Buffer.from(proof).toString('base64url')}`, creds.publicKey, space, now), /signature does not match/)
  })

  it('is proof-of-possession: the holder seed never goes to a relay, belongs to the token, and old bearer tokens are refused', () => {
    const t = signToken(creds, { role: 'write', exp: null })
    // The whole token (seed included) offered to a relay: spent, refused.
    refused(() => verifyToken(t, creds.publicKey, space, now), /holder key, which must never leave the holder/)
    const h = holderOf(t)
    expect(h.presented.split('.')).toHaveLength(3)
    expect(readToken(t).cnf).toBe(formatKey(h.key.publicKey))
    // Someone else's seed glued to the token does not make its holder.
    const [a, b, c] = t.split('.')
    const alien = Buffer.from(newSeed()).toString('base64url')
    refused(() => holderOf(`${a}.${b}.${c}.${alien}`), /holder key does not belong/)
    refused(() => holderOf(h.presented), /lacks its holder key/)
    refused(() => verifyToken('ctxsync-token1.eyJ9.c2ln', creds.publicKey, space, now), /older kind/)
    // The pinned relay key rides along.
    const relayKey = signingKeyFromSeed(newSeed()).publicKey
    expect(readToken(signToken(creds, { role: 'read', exp: null, relay: relayKey })).relay).toBe(formatKey(relayKey))
  })
})

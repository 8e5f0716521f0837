import { describe, expect, it } from 'vitest'
import { newPeerId, newSpaceId } from '../../src/ids.js'
import {
  authTranscript, deriveCredentials, newNonce, publicKeyFromRaw, signProof, spacePublicKey, verifyProof,
  verifySignature, type TranscriptInput,
} from '../../src/net/auth.js'
import { sessionCiphers } from '../../src/net/channel.js'
import { ProtocolError } from '../../src/net/protocol.js'
import { SECRET } from './helpers.js'

const space = newSpaceId()

function transcript(): TranscriptInput {
  return {
    spaceId: space,
    signerRole: 'dial',
    verifierNonce: newNonce(),
    signerNonce: newNonce(),
    signerId: newPeerId(),
    verifierId: newPeerId(),
  }
}

describe('auth: space credentials', () => {
  it('derive deterministically from secret and space; the public key alone verifies', () => {
    const a = deriveCredentials(SECRET, space)
    const b = deriveCredentials(SECRET, space)
    expect(a.publicKey).toEqual(b.publicKey)
    expect(a.publicKey.length).toBe(32)
    expect(spacePublicKey(SECRET, space)).toEqual(a.publicKey)
    expect(spacePublicKey(SECRET, newSpaceId())).not.toEqual(a.publicKey)
    expect(spacePublicKey(`${SECRET}x`, space)).not.toEqual(a.publicKey)
    const t = transcript()
    const sig = signProof(a, t)
    expect(sig.length).toBe(64)
    // What a relay would do, holding only the public key.
    expect(verifySignature(publicKeyFromRaw(spacePublicKey(SECRET, space)), authTranscript(t), sig)).toBe(true)
  })

  it('a proof verifies only with the same secret, space and transcript', () => {
    const creds = deriveCredentials(SECRET, space)
    const t = transcript()
    const sig = signProof(creds, t)
    expect(verifyProof(creds, t, sig)).toBe(true)
    expect(verifyProof(deriveCredentials('another secret', space), t, sig)).toBe(false)
    expect(verifyProof(creds, { ...t, signerRole: 'accept' }, sig)).toBe(false) // no reflection
    expect(verifyProof(creds, { ...t, verifierNonce: newNonce() }, sig)).toBe(false) // no replay
    expect(verifyProof(creds, { ...t, signerId: t.verifierId, verifierId: t.signerId }, sig)).toBe(false)
    expect(verifyProof(creds, t, new Uint8Array(64))).toBe(false)
    expect(verifyProof(creds, t, new Uint8Array(3))).toBe(false)
  })

  it('length-prefixes transcript fields so they cannot slide into each other', () => {
    const t = transcript()
    const a = authTranscript({ ...t, signerId: 'p-aaaa' as never, verifierId: 'p-bbbbb' as never })
    const b = authTranscript({ ...t, signerId: 'p-aaaab' as never, verifierId: 'p-bbbb' as never })
    expect(Buffer.compare(a, b)).not.toBe(0)
  })

  it('refuses an empty secret', () => {
    expect(() => deriveCredentials('', space)).toThrow(/secret is empty/)
  })
})

describe('channel: AES-256-GCM framing', () => {
  const creds = deriveCredentials(SECRET, space)
  const dn = newNonce()
  const an = newNonce()
  const pair = () => ({
    dial: sessionCiphers('secret', creds.sessionRoot, 'dial', dn, an),
    accept: sessionCiphers('secret', creds.sessionRoot, 'accept', dn, an),
  })

  it('round-trips both directions with 16 bytes of overhead and no visible plaintext', () => {
    const { dial, accept } = pair()
    const msg = new TextEncoder().encode('status: done')
    const sealed = dial.tx.seal(msg)
    expect(sealed.length).toBe(msg.length + 16)
    expect(Buffer.from(sealed).includes(Buffer.from('status'))).toBe(false)
    expect(accept.rx.open(sealed)).toEqual(msg)
    expect(dial.rx.open(accept.tx.seal(msg))).toEqual(msg)
  })

  it('refuses replayed, reordered, dropped-then-resent and tampered frames', () => {
    const frames = (n: number) => {
      const { dial, accept } = pair()
      return { rx: accept.rx, f: Array.from({ length: n }, (_, i) => dial.tx.seal(Uint8Array.of(i))) }
    }
    const replay = frames(2)
    replay.rx.open(replay.f[0]!)
    expect(() => replay.rx.open(replay.f[0]!)).toThrow(ProtocolError)
    const reorder = frames(2)
    expect(() => reorder.rx.open(reorder.f[1]!)).toThrow(/authentication/)
    const tamper = frames(1)
    tamper.f[0]![0]! ^= 1
    expect(() => tamper.rx.open(tamper.f[0]!)).toThrow(ProtocolError)
    const short = frames(1)
    expect(() => short.rx.open(Uint8Array.of(1, 2, 3))).toThrow(ProtocolError)
    const wrongDirection = pair()
    expect(() => wrongDirection.dial.rx.open(wrongDirection.dial.tx.seal(Uint8Array.of(1)))).toThrow(ProtocolError)
  })

  it("keys differ per connection (nonces) and per secret; 'none' passes through", () => {
    const a = sessionCiphers('secret', creds.sessionRoot, 'dial', dn, an)
    const b = sessionCiphers('secret', creds.sessionRoot, 'accept', newNonce(), an)
    expect(() => b.rx.open(a.tx.seal(Uint8Array.of(1)))).toThrow(ProtocolError)
    const other = deriveCredentials('another secret', space)
    const c = sessionCiphers('secret', other.sessionRoot, 'accept', dn, an)
    expect(() => c.rx.open(sessionCiphers('secret', creds.sessionRoot, 'dial', dn, an).tx.seal(Uint8Array.of(1)))).toThrow()
    const none = sessionCiphers('none', creds.sessionRoot, 'dial', dn, an)
    expect(none.tx.seal(Uint8Array.of(5))).toEqual(Uint8Array.of(5))
  })
})

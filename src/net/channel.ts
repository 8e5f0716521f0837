/**
 * Frame sealing after authentication.
 *
 * Peer to peer (`encryption: 'secret'`), every frame is AES-256-GCM with a key per direction, derived with
 * HKDF from the secret's session root, salted with both handshake nonces (dialer's first) so every
 * connection gets fresh keys. The 96-bit GCM nonce is an implicit 64-bit counter per direction that both
 * ends advance in step: nothing about it travels, so the per-frame overhead is the 16-byte tag alone, and
 * a replayed, dropped-then-resent, reordered or altered frame fails authentication at the receiver.
 *
 * Relay sessions are sealed the same way, with a root from the X25519 exchange of `relay-auth.ts` instead of
 * the secret. `encryption: 'none'` passes peer frames through: it exists for tests that inspect the wire.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto'
import { ProtocolError, type Role } from './protocol.js'

export type Encryption = 'secret' | 'none'

export interface FrameCipher {
  /** Bytes a sealed frame adds to its plaintext. */
  readonly overhead: number
  seal(plain: Uint8Array): Uint8Array
  /** Throws `ProtocolError` when the frame is not the next authentic frame. */
  open(frame: Uint8Array): Uint8Array
}

export const plaintext: FrameCipher = {
  overhead: 0,
  seal: (plain) => plain,
  open: (frame) => frame,
}

const TAG_BYTES = 16
const MAX_COUNTER = Number.MAX_SAFE_INTEGER

function counterIv(counter: number): Buffer {
  const iv = Buffer.alloc(12)
  iv.writeUInt32BE(Math.floor(counter / 2 ** 32), 4)
  iv.writeUInt32BE(counter >>> 0, 8)
  return iv
}

class GcmCipher implements FrameCipher {
  readonly overhead = TAG_BYTES
  #counter = 0
  constructor(private readonly key: Buffer) {}

  #next(): Buffer {
    // Reusing a GCM nonce would be fatal; 2^53 frames is unreachable, but refuse rather than wrap.
    if (this.#counter >= MAX_COUNTER) throw new ProtocolError('session exhausted its frame counter')
    return counterIv(this.#counter++)
  }

  seal(plain: Uint8Array): Uint8Array {
    const cipher = createCipheriv('aes-256-gcm', this.key, this.#next(), { authTagLength: TAG_BYTES })
    const body = cipher.update(plain)
    const tail = cipher.final()
    return new Uint8Array(Buffer.concat([body, tail, cipher.getAuthTag()]))
  }

  open(frame: Uint8Array): Uint8Array {
    if (frame.length < TAG_BYTES) throw new ProtocolError('sealed frame shorter than its tag')
    const decipher = createDecipheriv('aes-256-gcm', this.key, this.#next(), { authTagLength: TAG_BYTES })
    decipher.setAuthTag(frame.subarray(frame.length - TAG_BYTES))
    try {
      const body = decipher.update(frame.subarray(0, frame.length - TAG_BYTES))
      const tail = decipher.final()
      return tail.length === 0 ? new Uint8Array(body) : new Uint8Array(Buffer.concat([body, tail]))
    } catch {
      throw new ProtocolError('frame failed authentication (tampered, replayed or out of order)')
    }
  }
}

function directionKey(root: Uint8Array, salt: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', root, salt, `ctxsync-session/1 ${label}`, 32))
}

export interface SessionCiphers {
  tx: FrameCipher
  rx: FrameCipher
}

/** The two ciphers of one side of a connection; `role` is this side's role. */
export function sessionCiphers(
  encryption: Encryption,
  sessionRoot: Uint8Array,
  role: Role,
  dialNonce: Uint8Array,
  acceptNonce: Uint8Array,
): SessionCiphers {
  if (encryption === 'none') return { tx: plaintext, rx: plaintext }
  const salt = Buffer.concat([dialNonce, acceptNonce])
  const dialToAccept = new GcmCipher(directionKey(sessionRoot, salt, 'dial→accept'))
  const acceptToDial = new GcmCipher(directionKey(sessionRoot, salt, 'accept→dial'))
  return role === 'dial'
    ? { tx: dialToAccept, rx: acceptToDial }
    : { tx: acceptToDial, rx: dialToAccept }
}

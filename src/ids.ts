/**
 * Branded identifiers. A plain string cannot be passed where a PeerId is expected without going through
 * one of the constructors here, which keeps "which id is this" out of code review.
 */
import { randomBytes, createHash } from 'node:crypto'

declare const brand: unique symbol
export type Brand<T, B extends string> = T & { readonly [brand]: B }

/** A machine/agent identity, stable across restarts (kept in `.ctxsync/identity.yaml`). */
export type PeerId = Brand<string, 'PeerId'>
/** A space: the set of context files one team keeps in sync (named in the committed `ctxsync.yaml`). */
export type SpaceId = Brand<string, 'SpaceId'>
/** The name of one synced document: a tracked file's repository-relative POSIX path. */
export type DocName = Brand<string, 'DocName'>

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** Lower-case base32 of random bytes: readable, case-insensitive, safe in file names and URLs. */
export function randomId(bytes = 10): string {
  const buf = randomBytes(bytes)
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of buf) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

export const newPeerId = (): PeerId => `p-${randomId(10)}` as PeerId
export const newSpaceId = (): SpaceId => `s-${randomId(10)}` as SpaceId

const PEER_RE = /^p-[a-z2-7]{4,64}$/
const SPACE_RE = /^s-[a-z2-7]{4,64}$/

export function isPeerId(s: unknown): s is PeerId {
  return typeof s === 'string' && PEER_RE.test(s)
}
export function isSpaceId(s: unknown): s is SpaceId {
  return typeof s === 'string' && SPACE_RE.test(s)
}
export function asPeerId(s: string): PeerId {
  if (!isPeerId(s)) throw new TypeError(`not a peer id: ${JSON.stringify(s)}`)
  return s
}
export function asSpaceId(s: string): SpaceId {
  if (!isSpaceId(s)) throw new TypeError(`not a space id: ${JSON.stringify(s)}`)
  return s
}
/** Doc names are validated by the space (tracked globs); this only brands an already-checked path. */
export const asDocName = (s: string): DocName => s as DocName

export function sha256hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * Yjs client ids derived from content, for merges that must give byte-identical results on every peer and
 * in either direction: two peers merging the same texts must invent the same operations, so the ids that
 * name those operations come from the texts, not from chance.
 *
 * SHA-256 (not the faster `cyrb53` of `schema.ts`): peers on older versions derive these ids with
 * SHA-256, and a different hash would make the same merge produce different operations on old and new
 * peers. lib0's `sha256` is node:crypto's under Node and a pure implementation elsewhere, so `crdt/` stays
 * free of `node:` imports while the ids stay exactly what they were.
 */
import { digest } from 'lib0/hash/sha256'

const utf8 = new TextEncoder()

/** A client id in 1..0xfffffffe from the hash of the parts joined by NUL (never 0: Yjs treats it specially). */
export function derivedClientId(...parts: string[]): number {
  const h = digest(utf8.encode(parts.join('\0')))
  const first = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0
  return (first % 0xfffffffe) + 1
}

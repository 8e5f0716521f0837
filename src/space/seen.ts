/**
 * What a document's CRDT is known to hold, for telling git's rewrites apart from new content:
 *
 *  - `seen` (sidecar meta, this machine): hashes of texts this CRDT rendered into the file or took in from
 *    it. A text it has seen is in its history: finding it in a checkout means an older state, not an edit.
 *  - git marks (a map in the document itself, so they replicate with its updates): hashes of texts that
 *    some peer took in *from git*. A peer that pulls the same commit later finds the mark and takes in
 *    nothing; the mark travels in the very update that carries the content, so it is never seen without it.
 */
import type { FileModel } from '../crdt/model.js'
import { GIT_MARKS } from '../crdt/schema.js'
import type { DocEntry } from './entry.js'

const SEEN_MAX = 64
/** Hash prefixes keep the meta small; 64 bits are plenty within one file's history. */
const short = (hash: string) => hash.slice(0, 16)

/** The top-level Y.Map of git marks; its shape is part of the schema (`crdt/schema.ts`), which the guard checks. */
export { GIT_MARKS }

export function noteSeen(e: DocEntry, hash: string | null | undefined): void {
  if (!hash) return
  const h = short(hash)
  const cur = Array.isArray(e.meta.seen) ? (e.meta.seen as string[]) : []
  if (cur[0] === h) return
  e.meta.seen = [h, ...cur.filter((x) => x !== h)].slice(0, SEEN_MAX)
  e.saveMeta()
}

export function hasSeen(e: DocEntry, hash: string): boolean {
  return Array.isArray(e.meta.seen) && (e.meta.seen as string[]).includes(short(hash))
}

export function gitMarked(model: FileModel, hash: string): boolean {
  return model.doc.getMap(GIT_MARKS).has(short(hash))
}

/** Call inside the transaction that takes the content in (see the module comment). */
export function markFromGit(model: FileModel, hash: string, by: string, at: number): void {
  model.doc.getMap(GIT_MARKS).set(short(hash), [by, at])
}

/** Merges another state's `seen` (a branch merged into this one). */
export function mergeSeen(e: DocEntry, other: unknown): void {
  if (!Array.isArray(other)) return
  const cur = Array.isArray(e.meta.seen) ? (e.meta.seen as string[]) : []
  e.meta.seen = [...new Set([...cur, ...(other as string[])])].slice(0, SEEN_MAX * 2)
  e.saveMeta()
}

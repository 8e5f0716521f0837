/**
 * Git marks: a map inside the document itself (`GIT_MARKS` in `schema.ts`) naming texts that some peer took
 * in *from git*. The mark travels in the very update that carries the content, so a peer that pulls the
 * same commit later finds it and takes nothing in twice. Keys are hash prefixes: 64 bits are plenty within
 * one file's history and keep the map small. The space decides when to mark (`space/seen.ts`); this module
 * only knows the shape, so that the pure git replay (`merge/gitreplay.ts`) can write marks without I/O.
 */
import type { FileModel } from './model.js'
import { GIT_MARKS } from './schema.js'

/** The key of a text's mark: the first 16 hex digits of its hash. */
export const markKey = (hash: string): string => hash.slice(0, 16)

export function gitMarked(model: FileModel, hash: string): boolean {
  return model.doc.getMap(GIT_MARKS).has(markKey(hash))
}

/** Call inside the transaction that takes the content in (see the module comment). */
export function markFromGit(model: FileModel, hash: string, by: string, at: number): void {
  model.doc.getMap(GIT_MARKS).set(markKey(hash), [by, at])
}

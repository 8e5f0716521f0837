/**
 * What a document's CRDT is known to hold, for telling git's rewrites apart from new content:
 *
 *  - `seen` (sidecar meta, this machine; kept by `TrackedFile`): hashes of texts this CRDT rendered into
 *    the file or took in from it. A text it has seen is in its history: finding it in a checkout means an
 *    older state, not an edit.
 *  - git marks (a map in the document itself, kept by `FileModel.markFromGit`, so they replicate with its
 *    updates): hashes of texts that some peer took in *from git*. A peer that pulls the same commit later
 *    finds the mark and takes in nothing; the mark travels in the very update that carries the content.
 *
 * These functions are the names the git modules use for both.
 */
import type { FileModel } from '../crdt/model.js'
import { GIT_MARKS } from '../crdt/schema.js'
import type { TrackedFile } from './trackedfile.js'

/** The top-level Y.Map of git marks; its shape is part of the schema (`crdt/schema.ts`), which the guard checks. */
export { GIT_MARKS }

export function hasSeen(f: TrackedFile, hash: string): boolean {
  return f.hasSeen(hash)
}

export function gitMarked(model: FileModel, hash: string): boolean {
  return model.gitMarked(hash)
}

/** Call inside the transaction that takes the content in (see the module comment). */
export function markFromGit(model: FileModel, hash: string, by: string, at: number): void {
  model.markFromGit(hash, by, at)
}

/**
 * The types `FileModel` (model.ts) takes and returns, and its transaction origins: apart so the model's
 * file holds its behaviour.
 */
import type { DocIR, MapEntry, SeqItem } from './ir.js'
import type { Rules } from './rules.js'
import type { Span } from './render.js'

export interface Author {
  id: string
  name: string
  kind: 'human' | 'agent'
}

/** An author as the document keeps one (its authors map's entries, a credit's first three fields). */
export const asAuthor = (a: readonly unknown[]): Author => ({ id: String(a[0]), name: String(a[1]), kind: a[2] === 'agent' ? 'agent' : 'human' })

/** Transaction origins, so observers can tell who changed the document. */
export const LOCAL = Symbol('ctxsync:local')
export const LOAD = Symbol('ctxsync:load')
export interface RemoteOrigin {
  remote: string
}

export interface Rendered {
  /** null when the file does not exist (deleted, or never had content). */
  text: string | null
  /** The parse of `text`, annotated with node ids: the base for the next local edit. */
  ir: DocIR | null
  /**
   * False while the document waits for updates it depends on (Yjs applies a deletion before an
   * out-of-order insert it supersedes arrives): the rendering is a transient state and must not be written.
   */
  complete: boolean
  /** `ir` is the parse of `text` (not just the IR it was rendered from, which repairs may differ from). */
  parsed?: boolean
  /** Where the block entries of `ir` sit in `text`, when it was rendered (a parse records them itself). */
  spans?: Map<MapEntry | SeqItem, Span>
  /** The document's state vector this rendering shows (the base of a stale save: `recent.ts`). */
  sv?: Map<number, number>
}

export interface FileModelOptions {
  name: string
  author: Author
  rules?: Rules
  /** For reproducible tests only: a fixed Yjs client id and clock. */
  clientId?: number
  now?: () => number
  /**
   * A peer's own document (not a scratch model of a merge): a file it enrolls is named its creation, in the
   * authors map (`FileModel.enroll`).
   */
  live?: boolean
}

/** A rendering whose whole text still has to be checked to parse (see `FileModel.renderDeferred`). */
export interface DeferredCheck {
  text: string
  complete: boolean
  /** Takes the check's verdict: the rendering, or the canonical fallback when `text` does not parse. */
  finish(ok: boolean): Rendered
}

/**
 * How a file's IR is stored in a Y.Doc.
 *
 * One flat `Y.Map` ("n") holds every register of every node under the key `<nodeId><attr>`. Flat, because
 * Yjs cannot merge two nested types created concurrently under the same key (one would silently win);
 * with flat registers, two peers that add the same todo (same `id`) or the same key write the *same*
 * node id, and their fields merge one by one.
 *
 * Node ids are derived, not random, wherever identity is meaningful: a map entry's id is a hash of its
 * parent's id and its key; a list item's id is a hash of its parent's id and the value of its identity key
 * (`id` by default) at the time it was created; only items without identity get a unique id.
 *
 * Attributes (absent = default):
 *   o  placement `[parentId, orderKey, key?]` (key only for mapping entries)
 *   k  the key as written, when it differs from the key (quotes)
 *   h  head: comment/blank lines above a block entry; text before a flow item
 *   s  separator (`: ` / `- ` by default)
 *   t  trail: rest of the value's last line (`\n` by default for block entries, '' for flow items)
 *   v  value `[descriptor, unixSeconds]` (see `Desc`; milliseconds in the fraction, whole seconds from
 *      older peers)
 *   d  tombstone `[stateVector, unixSeconds]` (the deleter's state vector, only the entries of the clients
 *      whose writes the subtree showed), or null once re-created
 *   +N counter: net increment of Yjs client N (only with the `counter` rule)
 *
 * Other maps: "c" conflict records (and the alias records of later-wins copies, see `heads.ts`), "x"
 * resolutions (also written by a local edit that supersedes its node's records), "a" authors (Yjs client
 * id → peer).
 */
import * as Y from 'yjs'

export type NodeId = string

export const ROOT: NodeId = 'R'
export const NODES = 'n'
export const CONFLICTS = 'c'
export const RESOLVED = 'x'
export const AUTHORS = 'a'
/**
 * Git marks: `<16 hex digits of a text's hash>` → `[peer id, time, credit?]`, written by the space when a peer
 * took that text in from git (`FileModel.markFromGit`), so peers pulling the same commit take it in once. The
 * credit names the commit's author (or its sync point's writer): history and blame name them, on every peer,
 * never the peer that pulled.
 */
export const GIT_MARKS = 'ctxsync-git'
/**
 * Revert marks: an `undo` or `restore` is written with a mark in the git marks' map — the same shape, so the
 * release before accepts it (its guard checks that map's shape) — keyed `ffffffff` + the writing client in
 * 8 hex digits (no text hash starts so but by chance), valued `[what, time, credit]`: `what` is
 * `undo:<16 hex digits of the undone change's text hash>` or `restore`. Peers receiving it record the change
 * as the undo or restore it is: a value it brings back keeps its writer in history and blame, where the
 * undoer was named on every peer but its own (issue 16).
 */
export interface RevertMark { via: 'undo' | 'restore'; ofHash?: string }
export const revertMarkKey = (client: number): string => 'ffffffff' + (client >>> 0).toString(16).padStart(8, '0')
/** The revert a git-marks entry is, if it is one (else a git mark). */
export function revertOf(key: string, by: unknown): RevertMark | null {
  if (!key.startsWith('ffffffff') || typeof by !== 'string') return null
  if (by === 'restore') return { via: 'restore' }
  const m = /^undo:([0-9a-f]{16})?$/.exec(by)
  return m ? { via: 'undo', ...(m[1] ? { ofHash: m[1] } : {}) } : null
}

/**
 * Who wrote a change that a peer only carried, and when (unix seconds): the third element of a git mark and of
 * a resolution record (`RESOLVED`: `[client, time, credit?]`, the chosen value's writer). Read by the version
 * recorder (`space/versions/credits.ts`).
 */
export type Credit = [id: string, name: string, kind: 'human' | 'agent', at: number]

/** Counter increments live under `<nodeId>+<yjs client id>`: each peer only ever writes its own key. */
export const COUNT = '+'

export type Attr = 'o' | 'k' | 'h' | 's' | 't' | 'v' | 'd'

export type Placement = [parent: NodeId, order: string, key?: string]
export type Value = [desc: string, at: number]
export type Tombstone = [stateVector: Uint8Array, at: number]

/**
 * Value descriptors, one string so that a kind change (scalar → list) is one register write:
 *   `=raw` scalar · `!raw` opaque · `M<indent>` block map · `S<indent>` block seq · `[close` flow seq ·
 *   `{close` flow map ·
 *   `|<indent>:<header>` block scalar (children are its lines) · `~` no root value.
 */
export type Kind = 'scalar' | 'opaque' | 'map' | 'seq' | 'fseq' | 'fmap' | 'block' | 'none'

export function kindOf(desc: string | undefined): Kind {
  switch (desc?.[0]) {
    case '=':
      return 'scalar'
    case '!':
      return 'opaque'
    case 'M':
      return 'map'
    case 'S':
      return 'seq'
    case '[':
      return 'fseq'
    case '{':
      return 'fmap'
    case '|':
      return 'block'
    default:
      return 'none'
  }
}

/** Children of maps carry a key; children of sequences and block scalars do not. */
export function keyedKind(k: Kind): boolean | null {
  if (k === 'map' || k === 'fmap') return true
  if (k === 'seq' || k === 'fseq' || k === 'block') return false
  return null
}

export function blockDesc(indent: number, header: string): string {
  return `|${indent}:${header}`
}

export function parseBlockDesc(desc: string): { indent: number; header: string } {
  const colon = desc.indexOf(':')
  return { indent: Number(desc.slice(1, colon)), header: desc.slice(colon + 1) }
}

// --- node ids ------------------------------------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** cyrb53: a fast, well-distributed 53-bit string hash (public domain). */
function cyrb53(str: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed
  let h2 = 0x41c6ce57 ^ seed
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

/** 60 bits in 10 characters: collisions within one file are negligible (~1e-9 at 100k nodes). */
export function childId(parent: NodeId, segment: string): NodeId {
  const s = parent + '\u0000' + segment
  const a = cyrb53(s, 1)
  const b = cyrb53(s, 2)
  let out = ''
  let x = a
  for (let i = 0; i < 5; i++) {
    out += B64[x % 64]
    x = Math.floor(x / 64)
  }
  x = b
  for (let i = 0; i < 5; i++) {
    out += B64[x % 64]
    x = Math.floor(x / 64)
  }
  return out
}

/** Segment of a mapping entry: its key. */
export const keySegment = (key: string): string => 'k:' + key
/** Segment of a list item that has an identity (`id: todo-7`). */
export const identitySegment = (value: string): string => 'i:' + value
/** Segment of an element of a list with the `set` rule: the element itself, so it exists once. */
export const setSegment = (element: string): string => 's:' + element
/** Segment of an item without identity, created at enrollment: its position, so two enrollments agree. */
export const enrollSegment = (index: number): string => 'g:' + index

/** Deterministic 32-bit Yjs client id for enrolling `text` as document `doc` (see `FileModel.enrollment`). */
export function enrollClientId(doc: string, text: string): number {
  return cyrb53(doc + '\u0000' + text, 7) % 0xffffffff
}

/**
 * Seconds with milliseconds: a later edit must win over one made in the same second. Values of older peers
 * hold whole seconds and compare the same way; a JSON number keeps the fraction.
 */
export function nowSeconds(): number {
  return Date.now() / 1000
}

export function nodesOf(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap(NODES)
}

/** A short stable id (8 hex characters) for naming things to users, e.g. conflicts. */
export function shortHash(s: string): string {
  return cyrb53(s, 11).toString(16).padStart(14, '0').slice(-8)
}

/**
 * What the space's helpers may use of it. `Space` implements these; each helper takes the narrowest one
 * it needs (reconcile.ts a `FileContext`, gitingest.ts a `GitContext`, branches.ts a `BranchContext`,
 * summary.ts a `SummarySource`, host.ts a `HostContext`), so none imports `space.ts` and none reaches into
 * its internals. The events a space tells its daemon, status writer and commands are declared here too.
 *
 * Glossary of the space (the words the modules use):
 *  - tracked file / document: a file the `track` globs match, and its CRDT (`FileModel`) and sidecar.
 *  - base: the text the file last held as far as the model knows; an edit is diffed against it.
 *  - held: a file that does not parse (or cannot be read): nothing from it is sent until it does.
 *  - enroll: a file's first text becomes its CRDT (deterministically, so peers enrolling alike agree).
 *  - ingest / take in: a save (or git's content) is diffed against the base into CRDT operations.
 *  - write-back: the model's rendering is written atomically into the file.
 *  - reconcile: decide which of the two applies from the hashes kept in meta (startup, `sync`, after git).
 *  - git mark: a hash in the document of a text some peer took in from git; seen: hashes this CRDT held.
 *  - idle: no document has work queued or under way (`Space.idle`).
 */
import type { Author, StaleSave, Undone } from '../crdt/model.js'
import type { Rules } from '../crdt/rules.js'
import type { RevertMark } from '../crdt/schema.js'
import type { Matcher } from '../fs/globs.js'
import type { Repo } from '../git/repo.js'
import type { DocName, PeerId, SpaceId } from '../ids.js'
import type { ParseChecker } from './parsecheck.js'
import type { SpacePaths } from './paths.js'
import type { FileProblem, Persist, TrackedFile } from './trackedfile.js'

/** What a space tells its daemon, status writer and commands. Each event names the document it is about. */
export interface SpaceEvents {
  /** Something shown in status changed (debounced by the summary writer). */
  summary: () => void
  /** A document's state changed (a local edit taken in or a peer's update applied). */
  changed: (doc: DocName) => void
  /** A file is held: it does not parse (or cannot be read); nothing from it is sent until it does. */
  held: (doc: DocName, problem: FileProblem) => void
  /** A held file parses again; what waited is merged. */
  released: (doc: DocName) => void
  /** A file ctxsync refuses to sync as it is (a YAML feature it does not model). */
  refused: (doc: DocName, reason: string) => void
  /** A whole-file rewrite by a YAML library was taken in as its data changes, formatting kept (keepformat.ts). */
  'format-kept': (doc: DocName, message: string) => void
  /** A save made from an older text than the file's last was merged: the peers' changes since were kept. */
  'stale-save': (doc: DocName, what: StaleSave) => void
  /** A save on this machine was taken in (it changed the document): it goes to the peers. */
  /** `undid`: the save was exactly an older text, and took back these peers' changes (crdt/staletell.ts). */
  'took-in': (doc: DocName, undid?: Undone) => void
  'file-written': (doc: DocName) => void
  'file-deleted': (doc: DocName) => void
  /** A tracked file was deleted on this machine (rm, `git rm`, or while no daemon ran): the deletion goes to the peers. */
  'deleted-here': (doc: DocName) => void
}

export type Notify = <K extends keyof SpaceEvents>(event: K, ...args: Parameters<SpaceEvents[K]>) => void

/** One document as the rest of ctxsync reads it (`Space.docs()` / `doc()`): read-only. */
export interface DocView {
  readonly name: DocName
  /** No turn (a take-in, a write-back) is queued or under way. */
  readonly idle: boolean
  readonly file: TrackedFile
  readonly model: TrackedFile['model']
  readonly state: TrackedFile['state']
  readonly problem: TrackedFile['problem']
  readonly damaged: string | null
  /** The file's hash as far as known; null when absent or not looked at yet. */
  readonly diskHash: string | null
  readonly pending: boolean
  /** Why the sidecar store refuses this document's updates now; null when it takes them. */
  readonly storeError: string | null
  readonly ioError: string | null
  durableStateVector(): Uint8Array
}

/** The document a turn of its worker works on: its state, and the one way to persist it. */
export interface DocTurn {
  readonly file: TrackedFile
  /** 'now': written before the turn goes on (awaited); 'soon': once, at the end of the turn. */
  persist(when: Persist): Promise<void>
  /**
   * Runs `f` as a turn of this document after `ms`, counted as work under way until then (`idle` waits)
   * unless `counted` is false (a wait that is no work: `incomplete.ts`).
   */
  later(ms: number, f: () => Promise<unknown>, counted?: boolean): void
}

/** What keeping one file and its model in step needs (reconcile.ts). */
export interface FileContext {
  readonly root: string
  /** This machine's author, where the context has one (a joining file's records name it). */
  readonly author?: Author
  readonly parseCheck: ParseChecker
  readonly notify: Notify
  warn(message: string): void
  /** The file's rules when this peer's library dumps keep the file's format (`keep-format`), else null. */
  keepFormat(name: DocName): Rules | null
  /** Did `restore` or `undo` write this text (hash) on purpose (which)? Then it is no stale buffer. */
  deliberate(name: DocName, hash: string): Promise<RevertMark | null>
  /**
   * Git is rewriting files right now (the daemon paused for it, or its markers are in its directory):
   * asked synchronously right before a tracked file is written or removed, so that no write begun before
   * git started lands under its feet. True: write nothing; whoever said so writes the file again later.
   */
  gitHold?(name: DocName): boolean
}

/** What taking in git's rewrites needs (gitingest.ts). */
export interface GitContext extends FileContext {
  readonly author: Author
  readonly peerId: PeerId
  readonly match: Matcher
  readonly track: string[]
  rulesFor(name: string): Rules
  gitRepo(): Promise<Repo | null>
  /** Git is rewriting files again: what was read may be half of its work. */
  gitPaused(): boolean
  /** Every document the space knows. */
  docNames(): Iterable<DocName>
  /** Runs `f` as one turn of the document's worker (creating the document if needed). */
  turn<T>(name: DocName, f: (d: DocTurn) => Promise<T>): Promise<T>
}

/** What merging another branch's state needs (branches.ts). */
export interface BranchContext {
  readonly branch: string | null
  readonly paths: SpacePaths
  acceptName(name: string): DocName | null
  stateVectorOf(doc: DocName): Uint8Array
  applyRemote(doc: DocName, update: Uint8Array, from: PeerId): Promise<void>
  mergeSeen(doc: DocName, seen: unknown): void
  warn(message: string): void
}

/** What the status summary reads (summary.ts). */
export interface SummarySource {
  readonly paths: SpacePaths
  docs(): Iterable<DocView>
  on(event: 'summary', listener: () => void): unknown
}

/** What the network host needs (host.ts). */
export interface HostContext {
  readonly syncId: SpaceId
  readonly identity: { readonly id: PeerId }
  readonly author: Author
  docs(): Iterable<DocView>
  doc(name: DocName): DocView | undefined
  acceptName(name: string): DocName | null
  readonly root: string
  warn(message: string): void
  applyRemote(doc: DocName, update: Uint8Array, from: PeerId): Promise<void>
  onUpdate(listener: (doc: DocName, update: Uint8Array, origin: PeerId | null) => void): () => void
  /** A peer holds `sv` of `doc` (what is pending changes). */
  noteRemoteState(doc: DocName, sv: Uint8Array): void
}

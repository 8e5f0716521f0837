/**
 * What a command may ask of a space, as one interface (`SpaceApi`), whoever answers: the running daemon over
 * its control socket (`DaemonClient`, client.ts), the daemon itself (its control server dispatches each
 * request to its `LocalSpace`, local.ts), or this process with the space opened here (a `LocalSpace` without
 * the daemon's live parts). The control protocol's request and response types are derived from the interface below, so that
 * the socket's two ends cannot disagree on a method's params or result.
 *
 * Type-only on purpose: hooks and `status` import it, and it must load nothing.
 */
import type { Conflict, Take } from '../crdt/present.js'
import type { LivePeer } from '../net/protocol.js'
import type { FoundPeer } from '../net/discovery/finder.js'
import type { SyncReport } from './oneshot.js'
import type { StatusData } from './statusdata.js'
import type { OnlinePeer, PeerRecord } from './summary.js'

/**
 * What a sync point records of one file: its hash on disk (sha256) and the state vector it had (base64).
 * Declared here, not in syncpoint.ts (which re-exports it), so that the api imports nothing that reaches
 * the control socket (syncpoint.ts asks the daemon through it).
 */
export interface DocState {
  hash: string
  sv: string
}

export interface ResolveChoice {
  id: string
  take: Take
}

/** A sync asked of a space: `peers`/`registry` replace the configured remotes for this run (null: keep them). */
export interface SyncAsk {
  peers: string[] | null
  registry?: string | null
  insecure?: boolean
  timeoutMs: number
}

/** Who this space knows and sees: the peer book, the relay's live lists, mDNS finds, presence. */
export interface PeersView {
  book: PeerRecord[]
  registry: Array<{ url: string; peers: LivePeer[] }>
  /** `discovery: mdns`: what was found on the LAN; null when nothing looks (no daemon, or no mDNS). */
  found?: FoundPeer[] | null
  online?: OnlinePeer[]
}

export interface SpaceApi {
  /** Alive, and its memory (the soak bench splits RSS into V8 heap, external memory and the rest). */
  ping(p?: null): Promise<{ pid: number; memory: NodeJS.MemoryUsage }>
  status(p?: null): Promise<StatusData>
  conflicts(p?: null): Promise<{ conflicts: Conflict[] }>
  resolve(p: ResolveChoice): Promise<{ resolved: Conflict }>
  sync(p: SyncAsk): Promise<SyncReport>
  peers(p?: null): Promise<PeersView>
  /** `peers --prune`: forget peers not seen for `olderThanMs`; what was forgotten, and who is still known. */
  prunePeers(p: { olderThanMs: number }): Promise<{ forgotten: PeerRecord[]; known: PeerRecord[] }>
  /** What the files hold now (for a sync point); `wait`: first take in what git just did (after a merge). */
  syncpoint(p: { wait?: boolean } | null): Promise<{ states: Record<string, DocState> }>
  /** Git is done rewriting files: reconcile now rather than at the next poll. */
  git(p?: null): Promise<{ ok: boolean }>
  stop(p?: null): Promise<{ stopping: boolean }>
}

export type ControlMethod = keyof SpaceApi

/** The control socket's wire types, one entry per method, derived from `SpaceApi`. */
export type ControlProtocol = {
  [M in ControlMethod]: { params: Parameters<SpaceApi[M]>[0]; result: Awaited<ReturnType<SpaceApi[M]>> }
}

const METHODS: Record<ControlMethod, true> = { ping: true, status: true, conflicts: true, resolve: true, sync: true, peers: true, prunePeers: true, syncpoint: true, git: true, stop: true }

/** A request's method as read off the socket: only the interface's own methods are answered. */
export function isControlMethod(m: unknown): m is ControlMethod {
  return typeof m === 'string' && Object.hasOwn(METHODS, m)
}

export type { Conflict, StatusData, SyncReport, Take }

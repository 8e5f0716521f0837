/**
 * What `ctxsync status` reports (`StatusData`), and how a space open in this process (the daemon's, or a
 * one-shot command's) fills it in (`liveStatus`). Apart from readstatus.ts, which reads it without opening
 * the space and asks the daemon first, so that the api (api.ts) can name the type without a cycle.
 */
import type { PeerKind } from '../net/SyncHost.js'
import type { Space } from './space.js'
import { liveFiles, type FileStatus, type OnlinePeer, type PeerRecord } from './summary.js'

export interface StatusData {
  space: string
  root: string
  peer: { id: string; name: string; kind: PeerKind }
  daemon: { running: boolean; pid?: number; url?: string }
  files: FileStatus[]
  peers: PeerRecord[]
  /** Who is online now and what they touch (presence); empty without a running daemon. */
  online: OnlinePeer[]
  conflicts: number
  /**
   * Joined from a checkout and no exchange with a peer completed yet (join.ts): its files wait for the
   * space's state, "pending" without any edit here.
   */
  joining?: boolean
  /**
   * A clone of a space (ctxsync.yaml committed) where `init` never ran: no identity, so no name or kind
   * (status showed `you  (human)` with a blank name: issue 17 tester).
   */
  notJoined?: boolean
  /** HEAD's sync point, hooks, merge driver (added by the `status` command; null outside git). */
  git?: import('./gitstatus.js').GitStatus | null
  /** Saves of the last hour that removed most of a file's entries (added by the `status` command). */
  massDeletions?: import('./versions/guard.js').GuardNote[]
}

export function liveStatus(space: Space, daemon: StatusData['daemon'], peers: PeerRecord[], online: OnlinePeer[] = []): StatusData {
  const files = liveFiles(space).map(({ baseHash: _b, sv: _s, ...f }) => f)
  return {
    space: space.config.space,
    root: space.root,
    peer: { id: space.identity.id, name: space.author.name, kind: space.author.kind },
    daemon,
    files,
    peers,
    online,
    conflicts: files.reduce((n, f) => n + (f.conflicts ?? 0), 0),
  }
}

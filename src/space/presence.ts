/**
 * This peer's presence: the files it changed in the last minutes (`PRESENCE_WINDOW_MS`), announced to its
 * peers through the peer manager, and what the peers announce, shaped for `status` and `status.json`.
 *
 * Only local changes count (an update whose origin is no peer): files written because a peer changed them
 * are that peer's activity, which it announces itself. Announcements are batched (a save that touches
 * several files, an editor writing twice, go out as one) and repeated when a file leaves the window.
 */
import type { DocName, PeerId } from '../ids.js'
import type { PeerManager } from '../net/peer-manager.js'
import { PRESENCE_WINDOW_MS, recentFiles, type PresenceEntry } from '../net/presence.js'
import type { PresenceFile } from '../net/protocol.js'
import type { Space } from './space.js'
import type { OnlinePeer } from './summary.js'

const BATCH_MS = 250
const REFRESH_MS = 10_000
const PRUNE_MS = 30_000

export class Activity {
  readonly #files = new Map<string, number>()
  readonly #unsubscribe: () => void
  readonly #prune: NodeJS.Timeout
  #batch: NodeJS.Timeout | undefined
  #announced = 0

  constructor(
    space: Space,
    private readonly peers: PeerManager,
  ) {
    this.#unsubscribe = space.onUpdate((doc: DocName, _u: Uint8Array, origin: PeerId | null) => {
      if (origin === null) this.touch(doc)
    })
    this.#prune = setInterval(() => {
      const before = this.#files.size
      for (const [p, at] of this.#files) if (Date.now() - at > PRESENCE_WINDOW_MS) this.#files.delete(p)
      if (this.#files.size !== before) this.#announce()
    }, PRUNE_MS)
    this.#prune.unref()
  }

  touch(path: string): void {
    const known = this.#files.has(path)
    this.#files.set(path, Date.now())
    if (this.#batch) return
    // A file newly touched goes out at once (batched); only a newer time for a file already announced waits
    // up to REFRESH_MS, so that typing in one file does not cost every peer a message per save.
    const wait = known ? Math.max(BATCH_MS, this.#announced + REFRESH_MS - Date.now()) : BATCH_MS
    this.#batch = setTimeout(() => this.#announce(), wait)
    this.#batch.unref()
  }

  files(): PresenceFile[] {
    return recentFiles([...this.#files].map(([path, at]) => ({ path, at })), Date.now())
  }

  stop(): void {
    this.#unsubscribe()
    clearInterval(this.#prune)
    clearTimeout(this.#batch)
  }

  #announce(): void {
    this.#batch = undefined
    this.#announced = Date.now()
    this.peers.setPresence(this.files())
  }
}

/** The peer manager's presence list as `status` shows it. */
export function onlinePeers(entries: PresenceEntry[]): OnlinePeer[] {
  return entries.map((e) => ({
    id: e.peer.id,
    name: e.peer.name,
    kind: e.peer.kind,
    ...(e.peer.host !== undefined ? { host: e.peer.host } : {}),
    via: e.via,
    since: new Date(e.since).toISOString(),
    files: e.files.map((f) => ({ path: f.path, at: new Date(f.at).toISOString() })),
  }))
}

/**
 * PresenceBook: who is online now, as far as this peer knows, and which files each of them changed lately.
 *
 * Entries come from Presence messages (`protocol.ts`) and are kept per source — the session they arrived
 * on — because one peer can be heard of twice (directly and through a relay). A peer is online while any
 * source still vouches for it: when a session closes, everything learnt through it goes (the heartbeat
 * decides that a peer vanished, nothing else), and a relay's `online: false` removes one peer at once.
 * The newest entry for a peer is the one shown.
 */
import type { PeerId } from '../ids.js'
import type { PresenceFile, PresenceMessage } from './protocol.js'
import type { PeerInfo } from './SyncHost.js'

/** How long a changed file counts as "touched" in presence. */
export const PRESENCE_WINDOW_MS = 10 * 60_000

export interface PresenceEntry {
  peer: PeerInfo
  /** Files changed in the last `PRESENCE_WINDOW_MS`, newest first. */
  files: PresenceFile[]
  /** ms epoch when this peer was first heard of as online through its source. */
  since: number
  /** ms epoch of its latest Presence. */
  updatedAt: number
  /** Heard of from the peer itself, or through a relay. */
  via: 'direct' | 'relay'
}

/** Files changed within the window, newest first, at most `max`. */
export function recentFiles(files: Iterable<PresenceFile>, now: number, max = 64): PresenceFile[] {
  return [...files].filter((f) => now - f.at <= PRESENCE_WINDOW_MS).sort((a, b) => b.at - a.at || (a.path < b.path ? -1 : 1)).slice(0, max)
}

export class PresenceBook {
  readonly #bySource = new Map<object, Map<PeerId, PresenceEntry>>()
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** Takes in a Presence heard through `source`; true when what `list()` shows may have changed. */
  apply(m: PresenceMessage, source: object, via: PresenceEntry['via'], peer: PeerInfo = m.peer): boolean {
    let entries = this.#bySource.get(source)
    if (!m.online) {
      const had = entries?.delete(m.peer.id) ?? false
      if (entries?.size === 0) this.#bySource.delete(source)
      return had
    }
    if (!entries) this.#bySource.set(source, (entries = new Map()))
    const now = this.#now()
    const prev = entries.get(peer.id)
    entries.set(peer.id, { peer, files: recentFiles(m.files, now), since: prev?.since ?? now, updatedAt: now, via })
    return true
  }

  /** A session closed: what it vouched for goes. */
  dropSource(source: object): boolean {
    return this.#bySource.delete(source)
  }

  /** One entry per peer (its newest), files outside the window left out; by name, then id. */
  list(): PresenceEntry[] {
    const now = this.#now()
    const best = new Map<PeerId, PresenceEntry>()
    for (const entries of this.#bySource.values()) {
      for (const e of entries.values()) {
        const have = best.get(e.peer.id)
        if (!have || e.updatedAt > have.updatedAt || (e.updatedAt === have.updatedAt && e.via === 'direct')) best.set(e.peer.id, e)
      }
    }
    return [...best.values()]
      .map((e) => ({ ...e, files: recentFiles(e.files, now) }))
      .sort((a, b) => (a.peer.name < b.peer.name ? -1 : a.peer.name > b.peer.name ? 1 : a.peer.id < b.peer.id ? -1 : 1))
  }
}

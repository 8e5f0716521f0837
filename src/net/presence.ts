/**
 * PresenceBook: who is online now, as far as this peer knows, and which files each of them changed lately.
 *
 * Entries come from Presence messages (`protocol.ts`) and are kept per source — the session they arrived
 * on — because one peer can be heard of several times (directly, through a relay, passed on by other peers).
 * A peer is online while any source still vouches for it. What a peer or a relay said of itself and of the
 * peers behind it lasts as long as its session (the heartbeat decides that a peer vanished, nothing else);
 * an `online: false` removes one peer from one source at once. What other peers passed on (`via: 'peer'`)
 * also expires when not refreshed in time: in a ring, copies of a peer that left would otherwise keep
 * vouching for each other forever (`presence-forward.ts`).
 *
 * Of a peer's entries, the one from its own session is shown (it authenticated the name and kind shown, and
 * it tells its peers its announcements all at once); else the newest announcement (`at`, the peer's own
 * clock), on a tie the one heard most directly.
 */
import type { PeerId } from '../ids.js'
import type { PresenceFile, PresenceMessage } from './protocol.js'
import type { PeerInfo } from './SyncHost.js'

/** How long a changed file counts as "touched" in presence. */
export const PRESENCE_WINDOW_MS = 10 * 60_000
/** How often a peer announces itself again, so that what others passed on stays fresh. */
export const PRESENCE_REFRESH_MS = 60_000
/** How long a passed-on entry lasts without a refresh: a few refreshes may get lost or late. */
export const PRESENCE_EXPIRY_MS = 3 * PRESENCE_REFRESH_MS

/** From the peer itself, through a relay, or passed on by other peers. */
export type PresenceVia = 'direct' | 'relay' | 'peer'

export interface PresenceEntry {
  peer: PeerInfo
  /** Files changed in the last `PRESENCE_WINDOW_MS`, newest first. */
  files: PresenceFile[]
  /** ms epoch when this peer was first heard of as online (through any source still vouching for it). */
  since: number
  /** ms epoch (local clock) of its latest Presence through this source. */
  updatedAt: number
  via: PresenceVia
  /** When the peer itself issued this announcement (its clock): orders its announcements, nothing else. */
  at: number
  /** How many peers passed it on (0: from the peer itself, or a relay). */
  hops: number
}

/** Files changed within the window, newest first, at most `max`. */
export function recentFiles(files: Iterable<PresenceFile>, now: number, max = 64): PresenceFile[] {
  return [...files].filter((f) => now - f.at <= PRESENCE_WINDOW_MS).sort((a, b) => b.at - a.at || (a.path < b.path ? -1 : 1)).slice(0, max)
}

const RANK: Record<PresenceVia, number> = { direct: 0, relay: 1, peer: 2 }

/** Whether `a` is a better account of the same peer than `b`: newer, else heard more directly. */
export function better(a: PresenceEntry, b: PresenceEntry): boolean {
  if (a.at !== b.at) return a.at > b.at
  if (a.hops !== b.hops) return a.hops < b.hops
  return RANK[a.via] < RANK[b.via]
}

function shownBefore(a: PresenceEntry, b: PresenceEntry): boolean {
  if ((a.via === 'direct') !== (b.via === 'direct')) return a.via === 'direct'
  return better(a, b)
}

export class PresenceBook {
  readonly #bySource = new Map<object, Map<PeerId, PresenceEntry>>()
  readonly #now: () => number
  readonly #expiryMs: number

  constructor(now: () => number = Date.now, expiryMs = PRESENCE_EXPIRY_MS) {
    this.#now = now
    this.#expiryMs = expiryMs
  }

  /** Takes in a Presence heard through `source`; true when what `list()` shows may have changed. */
  apply(m: PresenceMessage, source: object, via: PresenceVia, peer: PeerInfo = m.peer): boolean {
    let entries = this.#bySource.get(source)
    if (!m.online) {
      const had = entries?.delete(m.peer.id) ?? false
      if (entries?.size === 0) this.#bySource.delete(source)
      return had
    }
    if (!entries) this.#bySource.set(source, (entries = new Map()))
    const now = this.#now()
    const prev = entries.get(peer.id)
    entries.set(peer.id, { peer, files: recentFiles(m.files, now), since: prev?.since ?? now, updatedAt: now, via, at: m.at, hops: m.hops })
    return true
  }

  /** A session closed: what it vouched for goes; returns those entries. */
  dropSource(source: object): PresenceEntry[] {
    const entries = this.#bySource.get(source)
    this.#bySource.delete(source)
    return entries ? [...entries.values()] : []
  }

  /** Removes passed-on entries that were not refreshed in time; returns them. */
  expire(): PresenceEntry[] {
    const gone: PresenceEntry[] = []
    for (const [source, entries] of this.#bySource) {
      for (const [id, e] of entries) {
        if (!this.#stale(e)) continue
        entries.delete(id)
        gone.push(e)
      }
      if (entries.size === 0) this.#bySource.delete(source)
    }
    return gone
  }

  /** The peers some live entry vouches for. */
  peerIds(): Set<PeerId> {
    const ids = new Set<PeerId>()
    for (const entries of this.#bySource.values()) for (const [id, e] of entries) if (!this.#stale(e)) ids.add(id)
    return ids
  }

  /** The best live entry for `id` among those `accept` takes (by the source it came through). */
  best(id: PeerId, accept: (source: object, e: PresenceEntry) => boolean = () => true): PresenceEntry | undefined {
    let best: PresenceEntry | undefined
    for (const [source, entries] of this.#bySource) {
      const e = entries.get(id)
      if (e && !this.#stale(e) && accept(source, e) && (!best || better(e, best))) best = e
    }
    return best
  }

  /** One entry per peer (its best), files outside the window left out; by name, then id. */
  list(): PresenceEntry[] {
    const now = this.#now()
    const best = new Map<PeerId, PresenceEntry>()
    const since = new Map<PeerId, number>()
    for (const entries of this.#bySource.values()) {
      for (const e of entries.values()) {
        if (this.#stale(e)) continue
        const have = best.get(e.peer.id)
        if (!have || shownBefore(e, have)) best.set(e.peer.id, e)
        since.set(e.peer.id, Math.min(since.get(e.peer.id) ?? e.since, e.since))
      }
    }
    return [...best.values()]
      .map((e) => ({ ...e, since: since.get(e.peer.id)!, files: recentFiles(e.files, now) }))
      .sort((a, b) => (a.peer.name < b.peer.name ? -1 : a.peer.name > b.peer.name ? 1 : a.peer.id < b.peer.id ? -1 : 1))
  }

  #stale(e: PresenceEntry): boolean {
    return e.via === 'peer' && this.#now() - e.updatedAt > this.#expiryMs
  }
}

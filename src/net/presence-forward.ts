/**
 * PresenceForwarder: this peer's side of presence — what it announces, what it heard (a `PresenceBook`),
 * and passing Presence on between its peer-to-peer sessions, so that peers joined only through others (a
 * chain A–B–C, a ring of `peers:` lists) see each other as they would through a relay.
 *
 * Flooding with a stop: a Presence is passed on (hops + 1) only when it is newer than anything this peer
 * knew of that peer (`at`, the origin's own clock), so each announcement crosses each session at most about
 * once, whatever the cycles; and only up to `MAX_PRESENCE_HOPS`. It goes to every live session except the
 * one it came from and the peer's own. A newly opened session gets, besides our own, the best entry of
 * every peer we know, so a newcomer learns who is there without waiting for the next refresh.
 *
 * Going away: when a peer disappears from our book (its last source closed or said `online: false`, or what
 * was passed on expired), we say `online: false` to our sessions, which drops the entries we gave them. In a
 * ring that is not enough — each of the left peer's neighbours still holds a copy from the other side, and
 * those vouch for each other. Hence the refresh: every peer announces itself again every `refreshMs` with a
 * new `at`, and passed-on entries not refreshed within `expiryMs` go. The copies of a peer that left are
 * never refreshed (only newer announcements are passed on), so they all go within about `expiryMs`.
 *
 * Relays are left as they were: they pass on their members' own Presence themselves, so what comes through
 * a relay is never passed on peer to peer, and a relay is told only our own Presence, not others'.
 */
import type { PeerId } from '../ids.js'
import { logger } from '../debuglog.js'
import { MAX_PRESENCE_HOPS, type PresenceFile, type PresenceMessage } from './protocol.js'
import { PRESENCE_EXPIRY_MS, PRESENCE_REFRESH_MS, PresenceBook, type PresenceEntry } from './presence.js'
import type { PeerInfo } from './SyncHost.js'

const log = logger('net:presence')

export interface PresenceTiming {
  /** How often this peer announces itself again (default `PRESENCE_REFRESH_MS`). */
  refreshMs?: number
  /** How long a passed-on entry lasts without a refresh (default `PRESENCE_EXPIRY_MS`). */
  expiryMs?: number
  now?: () => number
}

export interface PresenceForwarderOptions<S extends object> {
  self: PeerInfo
  /** The live sessions: authenticated, kept (not a duplicate), not one-shot. */
  sessions: () => Iterable<S>
  /** Who is behind a session, as its handshake authenticated it (undefined before that). */
  peerOf: (s: S) => PeerInfo | undefined
  send: (s: S, m: PresenceMessage) => void
  /** What `list()` shows may have changed. */
  onChange: () => void
  timing?: PresenceTiming
}

export class PresenceForwarder<S extends object> {
  readonly #o: PresenceForwarderOptions<S>
  readonly #book: PresenceBook
  readonly #now: () => number
  readonly #refreshMs: number
  readonly #expiryMs: number
  #files: PresenceFile[] = []
  #at: number
  #timers: NodeJS.Timeout[] = []

  constructor(o: PresenceForwarderOptions<S>) {
    this.#o = o
    this.#now = o.timing?.now ?? Date.now
    this.#refreshMs = o.timing?.refreshMs ?? PRESENCE_REFRESH_MS
    this.#expiryMs = o.timing?.expiryMs ?? PRESENCE_EXPIRY_MS
    this.#book = new PresenceBook(this.#now, this.#expiryMs)
    this.#at = this.#now()
  }

  start(): void {
    if (this.#timers.length > 0) return
    const every = (ms: number, f: () => void): void => {
      const t = setInterval(f, ms)
      t.unref()
      this.#timers.push(t)
    }
    every(this.#refreshMs, () => this.#refresh())
    // A few sweeps per expiry period: a left peer goes at most a quarter period late.
    every(Math.max(10, Math.floor(this.#expiryMs / 4)), () => this.#expire())
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t)
    this.#timers = []
  }

  /** Who is online now, as far as this peer knows (not itself), and what they touch. */
  list(): PresenceEntry[] {
    return this.#book.list()
  }

  /** Our files changed: a new announcement, to every live session (relays included). */
  setFiles(files: PresenceFile[]): void {
    this.#files = files
    this.#announce(false)
  }

  /** A session just became live: our own Presence, and what we know of everyone else but its peer. */
  opened(s: S): void {
    const to = this.#o.peerOf(s)
    if (!to) return
    this.#o.send(s, this.#own())
    if (to.kind === 'relay') return
    // Not what we heard from that same peer (through an older connection): it would vouch for itself.
    const notFromIt = (source: object): boolean => this.#o.peerOf(source as S)?.id !== to.id
    for (const id of this.#book.peerIds()) {
      const e = id === to.id ? undefined : this.#book.best(id, (src, x) => x.via !== 'relay' && notFromIt(src))
      if (e && e.hops < MAX_PRESENCE_HOPS) this.#o.send(s, passedOn(e))
    }
  }

  /** A Presence came in on `s` (the session checked that its sender may say it). */
  heard(s: S, m: PresenceMessage): void {
    const from = this.#o.peerOf(s)
    if (!from) return
    if (from.kind === 'relay') {
      if (this.#book.apply(m, s, 'relay')) this.#o.onChange()
      return
    }
    const own = m.peer.id === from.id
    const before = this.#bestP2p(m.peer.id)
    // Peer to peer, a peer's own Presence is shown under the name and kind its Hello authenticated.
    const changed = this.#book.apply(m, s, own ? 'direct' : 'peer', own ? from : m.peer)
    const after = this.#bestP2p(m.peer.id)
    if (after && m.online && (!before || after.at > before.at)) this.#pass(after, s)
    if (before && !after) this.#gone(before)
    if (changed) this.#o.onChange()
  }

  /** A session ended: what it vouched for goes, and peers nobody else vouches for are gone. */
  closed(s: S): void {
    const dropped = this.#book.dropSource(s)
    if (dropped.length === 0) return
    if (this.#o.peerOf(s)?.kind !== 'relay') this.#goneUnlessVouched(dropped)
    this.#o.onChange()
  }

  #own(): PresenceMessage {
    return { type: 'Presence', peer: this.#o.self, online: true, files: this.#files, hops: 0, at: this.#at }
  }

  /** A new announcement of ours; `refresh`: only to keep passed-on copies alive, so relays are spared. */
  #announce(refresh: boolean): void {
    // Strictly increasing, so that two announcements within a millisecond are still told apart.
    this.#at = Math.max(this.#now(), this.#at + 1)
    const m = this.#own()
    for (const s of this.#o.sessions()) {
      if (!refresh || this.#o.peerOf(s)?.kind !== 'relay') this.#o.send(s, m)
    }
  }

  #refresh(): void {
    this.#announce(true)
  }

  #expire(): void {
    const expired = this.#book.expire()
    if (expired.length === 0) return
    log('%d passed-on presence entries expired', expired.length)
    this.#goneUnlessVouched(expired)
    this.#o.onChange()
  }

  /** The best of what peers (not relays) told us of `id`. */
  #bestP2p(id: PeerId): PresenceEntry | undefined {
    return this.#book.best(id, (_, e) => e.via !== 'relay')
  }

  /** Passes `e` on to every live peer-to-peer session but `source`'s and the peer's own. */
  #pass(e: PresenceEntry, source: S): void {
    if (e.hops >= MAX_PRESENCE_HOPS) return
    const m = passedOn(e)
    for (const s of this.#o.sessions()) {
      const to = this.#o.peerOf(s)
      if (s !== source && to && to.kind !== 'relay' && to.id !== e.peer.id) this.#o.send(s, m)
    }
  }

  #goneUnlessVouched(dropped: PresenceEntry[]): void {
    const seen = new Set<PeerId>()
    for (const e of dropped) {
      if (e.via === 'relay' || seen.has(e.peer.id)) continue
      seen.add(e.peer.id)
      if (!this.#bestP2p(e.peer.id)) this.#gone(e)
    }
  }

  /** Nobody vouches for `e`'s peer any more: the sessions we may have told of it hear that it left. */
  #gone(e: PresenceEntry): void {
    log('%s (%s) no longer reachable peer to peer', e.peer.id, e.peer.name)
    const m: PresenceMessage = {
      type: 'Presence', peer: e.peer, online: false, files: [], hops: Math.min(e.hops + 1, MAX_PRESENCE_HOPS), at: e.at,
    }
    for (const s of this.#o.sessions()) {
      const to = this.#o.peerOf(s)
      if (to && to.kind !== 'relay' && to.id !== e.peer.id) this.#o.send(s, m)
    }
  }
}

function passedOn(e: PresenceEntry): PresenceMessage {
  return { type: 'Presence', peer: e.peer, online: true, files: e.files, hops: e.hops + 1, at: e.at }
}

/**
 * PeerFinder: turns what a `Discovery` hears into dial targets of a `PeerManager`.
 *
 * Only announcements of the same space (the same `spaceHash`), not our own, with a well-formed peer id
 * count. One of another protocol version is listed (so `ctxsync peers` can say why nothing happens) but not
 * dialled. A peer already connected is not dialled again. When both find each other at once, the peer with
 * the smaller id dials at once and the other waits `yieldMs` first — and then only if no connection came
 * (so a one-way firewall still gets a connection); the peer manager keeps one of two crossed connections
 * anyway, this only saves the double handshake.
 *
 * A peer that stops being announced is not disconnected: its target is dropped, and a live connection
 * to it stays until the heartbeat finds it gone. Announcements carry no proof of anything; the handshake
 * still requires the space secret, so a fake announcement costs a refused connection at most.
 */
import { isPeerId, type PeerId, type SpaceId } from '../../ids.js'
import { logger } from '../../debuglog.js'
import { PROTOCOL_VERSION } from '../protocol.js'
import type { AddPeerOptions } from '../peer-manager.js'
import { sightingUrl, spaceHash, type Discovery, type Sighting } from './DiscoveryInterface.js'

const log = logger('net:finder')
export const DEFAULT_YIELD_MS = 3000
/** Bounds what a flood of announcements can make us hold. */
const MAX_FOUND = 256

/** The part of a PeerManager the finder drives. */
export interface DialTargets {
  addPeer(url: string, o?: AddPeerOptions): void
  dropPeer(url: string): void
  isConnected(id: PeerId): boolean
}

export interface FoundPeer {
  id: string
  url: string
  proto: number
  /** False when it speaks another protocol version: listed, never dialled. */
  compatible: boolean
  /** Still announced (false after its goodbye or expiry). */
  announced: boolean
  connected: boolean
  /** ISO time of its latest announcement. */
  seenAt: string
}

export interface PeerFinderOptions {
  discovery: Discovery
  peers: DialTargets
  self: PeerId
  spaceId: SpaceId
  /** The port our peer listener is on (announced). */
  port: number
  yieldMs?: number
  now?: () => number
}

interface Entry {
  s: Sighting
  url: string
  seenAt: number
  announced: boolean
}

export class PeerFinder {
  readonly #o: PeerFinderOptions
  readonly #hash: string
  readonly #found = new Map<string, Entry>()
  readonly #onFound = (s: Sighting): void => this.#seen(s)
  readonly #onLost = (key: string): void => this.#lost(key)

  constructor(o: PeerFinderOptions) {
    this.#o = o
    this.#hash = spaceHash(o.spaceId)
  }

  async start(): Promise<void> {
    this.#o.discovery.on('found', this.#onFound)
    this.#o.discovery.on('lost', this.#onLost)
    await this.#o.discovery.start({ peerId: this.#o.self, spaceHash: this.#hash, proto: PROTOCOL_VERSION, port: this.#o.port })
  }

  async stop(): Promise<void> {
    this.#o.discovery.off('found', this.#onFound)
    this.#o.discovery.off('lost', this.#onLost)
    await this.#o.discovery.stop()
  }

  /** Peers of this space heard of, newest announcement first. */
  found(): FoundPeer[] {
    return [...this.#found.values()]
      .sort((a, b) => b.seenAt - a.seenAt || (a.s.peerId < b.s.peerId ? -1 : 1))
      .map((e) => ({
        id: e.s.peerId, url: e.url, proto: e.s.proto, compatible: e.s.proto === PROTOCOL_VERSION, announced: e.announced,
        connected: isPeerId(e.s.peerId) && this.#o.peers.isConnected(e.s.peerId), seenAt: new Date(e.seenAt).toISOString(),
      }))
  }

  #seen(s: Sighting): void {
    if (s.peerId === this.#o.self || s.spaceHash !== this.#hash || !isPeerId(s.peerId)) return
    const url = sightingUrl(s)
    const prev = this.#found.get(s.key)
    if (!prev && this.#found.size >= MAX_FOUND) return log('ignoring %s: already %d found', s.key, MAX_FOUND)
    if (prev && prev.url !== url && prev.s.proto === PROTOCOL_VERSION) this.#o.peers.dropPeer(prev.url)
    this.#found.set(s.key, { s, url, seenAt: (this.#o.now ?? Date.now)(), announced: true })
    if (s.proto !== PROTOCOL_VERSION) return log('not dialling %s at %s: it speaks protocol v%d', s.peerId, url, s.proto)
    const id = s.peerId
    log('found %s at %s', id, url)
    this.#o.peers.addPeer(url, { expect: id, delayMs: this.#o.self < id ? 0 : (this.#o.yieldMs ?? DEFAULT_YIELD_MS) })
  }

  #lost(key: string): void {
    const e = this.#found.get(key)
    if (!e) return
    log('%s at %s no longer announced', e.s.peerId, e.url)
    e.announced = false
    this.#o.peers.dropPeer(e.url)
  }
}

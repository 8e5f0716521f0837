/**
 * Discovery contract: how a live peer announces itself on a network and hears of others doing the same.
 *
 * Implementations: `bonjour.ts` (mDNS/DNS-SD over multicast, `_ctxsync._tcp`, the real one) and `memory.ts`
 * (a deterministic in-process "LAN" for unit tests). Both are run through the same contract test suite
 * (`test/net/discovery.contract.ts`). Deciding whom to connect to is not theirs: `finder.ts` does that for
 * every implementation alike.
 *
 * What is announced never names the space: only a hash of its id (`spaceHash`), so a LAN listing does not
 * tell strangers which spaces exist, nor give them the id to ask a relay about.
 */
import { createHash } from 'node:crypto'
import type { PeerId, SpaceId } from '../../ids.js'

/** The DNS-SD service type: `_ctxsync._tcp`. */
export const SERVICE_TYPE = 'ctxsync'

export interface Announcement {
  peerId: PeerId
  /** `spaceHash(spaceId)`. */
  spaceHash: string
  /** The wire protocol version this peer speaks. */
  proto: number
  /** The TCP port its peer listener is on. */
  port: number
}

/** Another peer heard of on the network; not checked in any way (anyone can announce anything). */
export interface Sighting {
  /** Stable per announced service, for `lost`. */
  key: string
  peerId: string
  spaceHash: string
  proto: number
  /** Where to reach it: an address the announcement came from, and its port. */
  host: string
  port: number
}

export type DiscoveryEvents = {
  /** Seen for the first time, or again with a different address, port or record. */
  found: (s: Sighting) => void
  /** No longer announced (goodbye or expiry). Informational: connections are not dropped for it. */
  lost: (key: string) => void
  /** Discovery cannot work (no multicast, port taken…); the peer carries on without it. */
  error: (err: Error) => void
}

export interface Discovery {
  /** Starts announcing `me` and listening for others. */
  start(me: Announcement): Promise<void>
  /** Says goodbye (where the implementation can) and stops listening. */
  stop(): Promise<void>
  on<K extends keyof DiscoveryEvents>(event: K, listener: DiscoveryEvents[K]): this
  off<K extends keyof DiscoveryEvents>(event: K, listener: DiscoveryEvents[K]): this
}

/** What an announcement carries instead of the space id: sha256("ctxsync-mdns:" + id), 16 hex digits. */
export function spaceHash(spaceId: SpaceId | string): string {
  return createHash('sha256').update(`ctxsync-mdns:${spaceId}`).digest('hex').slice(0, 16)
}

/** `ws://host:port`, with an IPv6 address in brackets. */
export function sightingUrl(s: Pick<Sighting, 'host' | 'port'>): string {
  return `ws://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`
}

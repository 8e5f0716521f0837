/**
 * A deterministic in-memory Discovery for unit tests: every `MemoryDiscovery` on one `MemoryLan` hears
 * every other one's announcement (on the next microtask, in the order they started), and its goodbye when
 * it stops. `host` is what others are told to dial (127.0.0.1 by default).
 */
import { TypedEmitter } from '../emitter.js'
import type { Announcement, Discovery, DiscoveryEvents, Sighting } from './DiscoveryInterface.js'

export class MemoryLan {
  readonly members = new Map<MemoryDiscovery, Sighting>()
  /** Announcements not from a MemoryDiscovery (a stranger, a hostile record), for tests. */
  announce(s: Sighting): void {
    for (const m of this.members.keys()) queueMicrotask(() => m.hear(s))
  }
}

export class MemoryDiscovery extends TypedEmitter<DiscoveryEvents> implements Discovery {
  #key: string | undefined

  constructor(
    private readonly lan: MemoryLan,
    private readonly host = '127.0.0.1',
  ) {
    super()
  }

  async start(me: Announcement): Promise<void> {
    if (this.#key) throw new Error('MemoryDiscovery already started')
    this.#key = `memory:${me.peerId}`
    const mine: Sighting = { key: this.#key, peerId: me.peerId, spaceHash: me.spaceHash, proto: me.proto, host: this.host, port: me.port }
    for (const [other, theirs] of this.lan.members) {
      queueMicrotask(() => other.hear(mine))
      queueMicrotask(() => this.hear(theirs))
    }
    this.lan.members.set(this, mine)
  }

  async stop(): Promise<void> {
    if (!this.#key || !this.lan.members.delete(this)) return
    const key = this.#key
    for (const other of this.lan.members.keys()) queueMicrotask(() => other.emit('lost', key))
  }

  /** @internal delivery from the LAN */
  hear(s: Sighting): void {
    if (this.lan.members.has(this)) this.emit('found', s)
  }

  /** @internal */
  override emit<K extends keyof DiscoveryEvents>(event: K, ...args: Parameters<DiscoveryEvents[K]>): void {
    super.emit(event, ...args)
  }
}

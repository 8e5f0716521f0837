/**
 * Expiry of a relay's spaces (the third bound of `registration.ts`): what is known of each registered
 * space's visits, kept in memory and in the relay's storage (`touch`), and the sweep that forgets spaces
 * whose registering session stayed their only one for `unconfirmedTtlMs`, or that no peer visited for
 * `idleTtlMs`. A loaded space is never forgotten. Writes are rare: a space's first two sessions, then at
 * most one an hour.
 */
import type { SpaceId } from '../../ids.js'
import { logger } from '../../debuglog.js'
import { expired, type RegistrationLimits } from './registration.js'
import type { RelayStorage } from './storage.js'

const log = logger('relay:expiry')
const TOUCH_EVERY_MS = 3600_000

export class SpaceExpiry {
  readonly #storage: RelayStorage
  readonly #limits: RegistrationLimits
  readonly #seen = new Map<SpaceId, { lastSeenAt: number; confirmed: boolean }>()

  constructor(storage: RelayStorage, limits: RegistrationLimits) {
    this.#storage = storage
    this.#limits = limits
  }

  /** A session of `id` began. The first one (the registering session) leaves it unconfirmed. */
  visit(id: SpaceId, now = Date.now()): void {
    const prev = this.#seen.get(id)
    const next = { lastSeenAt: now, confirmed: prev !== undefined }
    this.#seen.set(id, next)
    if (prev?.confirmed && now - prev.lastSeenAt < TOUCH_EVERY_MS) {
      next.lastSeenAt = prev.lastSeenAt
      return
    }
    this.#storage.touch(id, { lastSeenAt: new Date(now).toISOString(), confirmed: next.confirmed })
      .catch((err: unknown) => log('%s: cannot note the visit: %s', id, (err as Error).message))
  }

  /** Forgets the expired spaces `loaded` says are not in use; returns how many were forgotten and kept. */
  async sweep(loaded: (id: SpaceId) => boolean, now = Date.now()): Promise<{ forgotten: number; kept: number }> {
    const records = await this.#storage.spaces()
    let forgotten = 0
    for (const r of records) {
      const mem = this.#seen.get(r.space)
      const rec = mem ? { ...r, lastSeenAt: new Date(mem.lastSeenAt).toISOString(), confirmed: mem.confirmed } : r
      if (loaded(r.space) || !expired(rec, this.#limits, now)) {
        if (!mem) this.#seen.set(r.space, { lastSeenAt: Date.parse(r.lastSeenAt ?? r.registeredAt) || now, confirmed: r.confirmed === true })
        continue
      }
      await this.#storage.forget(r.space)
      this.#seen.delete(r.space)
      forgotten++
      log('%s: forgotten (%s)', r.space, rec.confirmed ? 'idle' : 'never used after registering')
    }
    return { forgotten, kept: records.length - forgotten }
  }
}

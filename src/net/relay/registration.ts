/**
 * Bounds on registering spaces with a relay. Anyone can make a secret, so anyone can register a space: the
 * relay cannot tell a stranger's from a team's, only keep strangers from filling it. Three bounds:
 *
 *  - a rate per address (a token bucket: `burst` registrations at once, then `perHour`), so one host cannot
 *    mint thousands of spaces a minute;
 *  - a total (`maxSpaces`): beyond it new spaces are refused (1013, try again later) while every space
 *    already registered keeps working;
 *  - expiry (`sweep`): a space that never saw a second session is forgotten after `unconfirmedTtlMs`, any
 *    space no peer visited for `idleTtlMs` after that; its directory is removed. Forgetting loses nothing a
 *    team needs: the next peer to prove the secret registers it again and uploads its state.
 *
 * The rate and the total are checked in a wrapper around the gate's handshake (`gate.ts` stays as it is):
 * before the proof of a space not registered yet is looked at, and the registration is counted once the
 * gate admitted it. Only key proofs register; tokens need a registered space anyway.
 */
import type { SpaceId } from '../../ids.js'
import { logger } from '../../debuglog.js'
import type { Handshake, HandshakeIO, Step } from '../handshake.js'
import type { Message } from '../protocol.js'
import { CloseCode } from '../TransportInterface.js'

const log = logger('relay:registration')
const DAY = 24 * 3600_000

export interface RegistrationLimits {
  /** Registrations one address may make at once… */
  burst: number
  /** …and then per hour. */
  perHour: number
  maxSpaces: number
  /** A space whose registering session was its only one is forgotten after this long. */
  unconfirmedTtlMs: number
  /** A space no peer visited for this long is forgotten. */
  idleTtlMs: number
}

export const DEFAULT_REGISTRATION: RegistrationLimits = {
  burst: 20,
  perHour: 20,
  maxSpaces: 10_000,
  unconfirmedTtlMs: 7 * DAY,
  idleTtlMs: 180 * DAY,
}

/** Known per space for expiry: kept by the relay's storage (`seen.json`). */
export interface SpaceRecord {
  space: SpaceId
  registeredAt: string
  /** ISO time of the last session (at day granularity or finer). */
  lastSeenAt?: string
  /** A second session came: someone other than the first contact uses it. */
  confirmed?: boolean
}

/** Whether a space should be forgotten now. */
export function expired(r: SpaceRecord, limits: RegistrationLimits, now: number): boolean {
  const registered = Date.parse(r.registeredAt) || 0
  const seen = Math.max(registered, Date.parse(r.lastSeenAt ?? '') || 0)
  if (!r.confirmed && now - seen > limits.unconfirmedTtlMs) return true
  return now - seen > limits.idleTtlMs
}

const MAX_TRACKED_ADDRESSES = 10_000

/**
 * What the guard asks of the gate's registry (`gate.ts` `Registry`): whether a space is registered already
 * (its key then only authenticates, it registers nothing). Declared here so that the guard does not import
 * the gate, which imports the storage contract, which imports this module's `SpaceRecord`.
 */
export interface KnownSpaces {
  get(space: SpaceId): Promise<unknown>
}

export class RegistrationGuard {
  readonly limits: RegistrationLimits
  readonly #buckets = new Map<string, { tokens: number; at: number }>()
  /** Spaces registered: counted by the sweep (`expiry.ts`), then one more per registration admitted. */
  count = 0
  refusedTotal = 0

  constructor(limits: Partial<RegistrationLimits>) {
    this.limits = { ...DEFAULT_REGISTRATION, ...limits }
  }

  /** The gate's handshake for one connection from `address`, with the bounds in front of it. */
  wrap(inner: Handshake, address: string, registry: () => KnownSpaces): Handshake {
    let space: SpaceId | undefined
    return {
      get remoteHello() {
        return inner.remoteHello
      },
      start: (io: HandshakeIO) => inner.start(io),
      receive: (msg: Message, io: HandshakeIO): Step | Promise<Step> => {
        if (msg.type === 'Hello' && space === undefined) space = msg.spaceId
        if (msg.type !== 'RelayAuth' || msg.credential.kind !== 'key' || space === undefined) return inner.receive(msg, io)
        const id = space
        return (async () => {
          if (await registry().get(id)) return inner.receive(msg, io)
          const why = this.#refusal(address)
          if (why) {
            this.refusedTotal++
            log('refused registering %s from %s: %s', id, address, why)
            return { refuse: { code: CloseCode.TryAgainLater, message: why } }
          }
          const step = await inner.receive(msg, io)
          if (step && 'open' in step) this.#take(address)
          return step
        })()
      },
    }
  }

  #refusal(address: string): string | null {
    if (this.count >= this.limits.maxSpaces) return `this relay holds the most spaces it allows (${this.limits.maxSpaces}); ask its operator`
    if (this.#tokens(address) < 1) return `too many new spaces from ${address}: at most ${this.limits.perHour} an hour; try again later`
    return null
  }

  #tokens(address: string, now = Date.now()): number {
    const b = this.#buckets.get(address)
    if (!b) return this.limits.burst
    b.tokens = Math.min(this.limits.burst, b.tokens + ((now - b.at) / 3600_000) * this.limits.perHour)
    b.at = now
    return b.tokens
  }

  #take(address: string): void {
    const tokens = this.#tokens(address)
    this.count++
    if (this.#buckets.size >= MAX_TRACKED_ADDRESSES && !this.#buckets.has(address)) this.#prune()
    this.#buckets.set(address, { tokens: tokens - 1, at: Date.now() })
  }

  /** Buckets that refilled say nothing a fresh one would not: drop them (and, if none, the oldest). */
  #prune(): void {
    for (const [a] of this.#buckets) if (this.#tokens(a) >= this.limits.burst) this.#buckets.delete(a)
    if (this.#buckets.size >= MAX_TRACKED_ADDRESSES) this.#buckets.delete(this.#buckets.keys().next().value as string)
  }
}

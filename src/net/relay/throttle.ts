/**
 * Per-connection rate limiting: a token bucket for frames and one for bytes. Many peers may share one
 * address (NAT, CI runners, agents on one host), so the relay limits each connection, never an address.
 *
 * A connection over its rate is not cut off: its socket stops being read until the buckets have refilled
 * (`WsTransport` pauses it), so a flood slows only the flooder — TCP pushes back on it — while a large
 * legitimate first upload simply proceeds at the allowed rate.
 */
import type { Throttle } from '../ws.js'

export class TokenBucket {
  readonly #rate: number
  readonly #burst: number
  #tokens: number
  #at: number

  /** `rate` tokens per second, holding at most `burst`. */
  constructor(rate: number, burst: number, now = Date.now()) {
    this.#rate = rate
    this.#burst = burst
    this.#tokens = burst
    this.#at = now
  }

  /** Takes `n` tokens (going into debt if needed); returns the ms until the debt is repaid, 0 if none. */
  take(n: number, now = Date.now()): number {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate)
    this.#at = now
    this.#tokens -= n
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#rate) * 1000)
  }
}

export interface RateLimit {
  messagesPerSec: number
  burstMessages: number
  bytesPerSec: number
  burstBytes: number
}

export const DEFAULT_RATE_LIMIT: RateLimit = {
  messagesPerSec: 500,
  burstMessages: 2000,
  bytesPerSec: 32 * 1024 * 1024,
  burstBytes: 64 * 1024 * 1024,
}

export function connectionThrottle(limit: RateLimit, onThrottled?: () => void): Throttle {
  const frames = new TokenBucket(limit.messagesPerSec, limit.burstMessages)
  const bytes = new TokenBucket(limit.bytesPerSec, limit.burstBytes)
  return {
    take(n: number): number {
      const now = Date.now()
      const wait = Math.max(frames.take(1, now), bytes.take(n, now))
      if (wait > 0) onThrottled?.()
      return wait
    },
  }
}

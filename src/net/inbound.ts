/**
 * A session's inbound queue after authentication: messages are applied strictly one at a time, in order,
 * each awaited (durable) before the next starts — and the queue is where back-pressure comes from. When
 * more than `highWaterBytes` wait behind the message being applied, reading the transport pauses until
 * half of that is done, so the sender feels it (its own producer then waits) and a large first sync into a
 * slow disk simply takes longer. A backlog beyond `maxQueuedBytes` anyway (a transport that cannot pause)
 * is refused: `push` returns false and the session closes with 1008.
 */
import type { Transport } from './TransportInterface.js'

export interface InboundLimits {
  highWaterBytes: number
  maxQueuedBytes: number
}

export class InboundQueue {
  #chain: Promise<void> = Promise.resolve()
  #bytes = 0
  readonly #sizes: number[] = []
  #paused = false

  constructor(
    private readonly t: Pick<Transport, 'pause' | 'resume'>,
    private readonly limits: InboundLimits,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Queues `run` (a message of `size` bytes); false when the backlog is over `maxQueuedBytes`. */
  push(size: number, run: () => Promise<void> | void): boolean {
    this.#bytes += size
    this.#sizes.push(size)
    // The message being applied does not count (its size is bounded on its own); a backlog behind it does.
    const backlog = this.#bytes - this.#sizes[0]!
    if (backlog > this.limits.maxQueuedBytes) return false
    if (backlog > this.limits.highWaterBytes && !this.#paused && this.t.pause) {
      this.#paused = true
      this.t.pause()
    }
    this.#chain = this.#chain
      .then(run)
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        this.#bytes -= size
        this.#sizes.shift()
        // The same measure as for pausing (what waits behind the message being applied), so a pause lasts
        // about one message: long pauses would also hold back the heartbeat frames queued behind the data.
        const waiting = this.#bytes - (this.#sizes[0] ?? 0)
        if (this.#paused && waiting < this.limits.highWaterBytes / 2) {
          this.#paused = false
          this.t.resume?.()
        }
      })
    return true
  }
}

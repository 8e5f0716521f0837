/**
 * Transport contract: a reliable, ordered, message-framed, bidirectional channel between two processes.
 *
 * Everything above this file (handshake, authentication, sync) is transport-agnostic. Implementations:
 * `ws.ts` (WebSocket over TCP, the real one) and `memory.ts` (a deterministic in-memory pair for unit tests).
 * Both are run through the same contract test suite (`test/net/transport.contract.ts`); their Dialer and
 * Listener (`ws.ts`'s `wsDialer`/`listen`, `memory.ts`'s `MemoryNet`) through `test/net/dialer.contract.ts`.
 *
 * Close codes used across the project (documented in README):
 *   1000 normal · 1001 going away · 1002 protocol error · 1008 policy · 1009 message too big ·
 *   1013 try again later (a relay at a limit: sessions of a space, new spaces) ·
 *   4401 unauthenticated (wrong secret / bad proof) · 4403 forbidden (other space, read-only, self) ·
 *   4408 heartbeat timeout.
 */

export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  Policy: 1008,
  TooBig: 1009,
  TryAgainLater: 1013,
  Unauthenticated: 4401,
  Forbidden: 4403,
  HeartbeatTimeout: 4408,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

export interface TransportEvents {
  message: (frame: Uint8Array) => void
  close: (code: number, reason: string) => void
}

export interface Transport {
  /** Human-readable address of the other end (URL, or `memory:<n>`), for logs and status. */
  readonly remote: string
  /** Bytes queued but not yet handed to the OS; senders use it for back-pressure. */
  readonly bufferedAmount: number
  readonly open: boolean
  /** Sends one frame. Silently drops it when the transport is already closed. */
  send(frame: Uint8Array): void
  /** Closes with a code from `CloseCode` and a short reason; `close` fires once on both ends. */
  close(code: number, reason: string): void
  /**
   * Stops delivering frames until `resume` (a frame or two already read may still arrive): the receiver's
   * back-pressure, which the sender sees as a growing `bufferedAmount`. Optional; without it a receiver
   * that falls behind can only hang up.
   */
  pause?(): void
  resume?(): void
  /**
   * The other end authenticated: the connection is a member's from now on, and the listener's limits on
   * strangers (`admission.ts`: their number, the handshake deadline) no longer apply to it. Optional.
   */
  admitted?(): void
  on<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): this
  off<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): this
}

export interface Listener {
  /** `ws://host:port` as peers should dial it. */
  readonly url: string
  readonly port: number
  onConnection(cb: (t: Transport) => void): void
  close(): Promise<void>
}

export interface DialOptions {
  /** Give up connecting after this long (the caller retries with backoff). */
  timeoutMs: number
}

export interface Dialer {
  dial(url: string, opts: DialOptions): Promise<Transport>
}

/**
 * FaultProxy: a TCP proxy on 127.0.0.1 that sits between two ctxsync processes and misbehaves on purpose.
 *
 * ctxsync speaks WebSocket, so the proxy passes the HTTP upgrade through untouched and then cuts each
 * direction into whole RFC 6455 frames. Faults act on whole *data* frames (drop, duplicate, reorder), which
 * keeps the framing valid so the receiver's WebSocket layer accepts the bytes and the fault reaches ctxsync
 * itself: peer-to-peer sessions are AES-GCM sealed with implicit counters and must see any of these as a
 * broken session; relay sessions are plaintext (TLS is meant to guard them) and must still end up
 * consistent once connections are re-established. Byte-level garbling is a different test (hostile frames).
 *
 * Connection-level faults: latency with jitter (never reorders by itself: TCP keeps order), a cut (both
 * sockets destroyed, like a crashed NAT or a closed laptop lid), a *refusing* partition (live connections
 * cut, new ones accepted and dropped at once) and a *blackhole* partition (bytes stall and flow again when
 * it ends, as TCP retransmission does after a short outage; a long one trips the heartbeats).
 *
 * Everything random comes from one seeded generator, so a failing run can be replayed by its seed as far as
 * the timing of the processes around it allows.
 */
import net from 'node:net'

export interface Faults {
  /** One-way delay added to every frame, ms. */
  latencyMs: number
  /** Extra random delay, 0..jitterMs, ms (frames still leave in order). */
  jitterMs: number
  /** Probability that a data frame is dropped. */
  drop: number
  /** Probability that a data frame is sent twice. */
  duplicate: number
  /** Probability that a data frame is held back and sent after the next one. */
  reorder: number
  /** Probability, per data frame, that the connection is cut right there. */
  cut: number
  /** Which way frame faults apply: dialer→listener ('up'), back ('down') or both. */
  direction: 'both' | 'up' | 'down'
}

export const NO_FAULTS: Faults = { latencyMs: 0, jitterMs: 0, drop: 0, duplicate: 0, reorder: 0, cut: 0, direction: 'both' }

export interface FaultStats {
  connections: number
  frames: number
  dropped: number
  duplicated: number
  reordered: number
  cuts: number
  refused: number
}

import { mulberry32 as rng } from './random.js'
export { rng }

/** A held-back (reordered) frame waits at most this long for a successor before it goes anyway. */
const REORDER_WAIT_MS = 30

type Conn = { client: net.Socket; upstream: net.Socket; pipes: [Pipe, Pipe]; closed: boolean }

export class FaultProxy {
  readonly stats: FaultStats = { connections: 0, frames: 0, dropped: 0, duplicated: 0, reordered: 0, cuts: 0, refused: 0 }
  readonly random: () => number
  faults: Faults = { ...NO_FAULTS }
  #server: net.Server
  #conns = new Set<Conn>()
  #refusing = false
  #stalled = false
  #partitionTimer: NodeJS.Timeout | undefined

  private constructor(server: net.Server, readonly targetPort: number, seed: number) {
    this.#server = server
    this.random = rng(seed)
  }

  /** Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:targetPort. */
  static async start(targetPort: number, o: { seed?: number; faults?: Partial<Faults> } = {}): Promise<FaultProxy> {
    const server = net.createServer()
    const p = new FaultProxy(server, targetPort, o.seed ?? 1)
    p.set(o.faults ?? {})
    server.on('connection', (s) => p.#accept(s))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    return p
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  get connections(): number {
    return this.#conns.size
  }

  set(f: Partial<Faults>): void {
    this.faults = { ...this.faults, ...f }
  }

  /** Cuts every live connection (both ends see the TCP connection end). */
  cutAll(): void {
    for (const c of this.#conns) this.#cut(c)
  }

  /**
   * For `ms`: 'refuse' cuts what is connected and drops new connections; 'blackhole' stalls every byte
   * until it ends (connections stay up). A second call replaces the first.
   */
  partition(mode: 'refuse' | 'blackhole', ms: number): void {
    this.#endPartition()
    if (mode === 'refuse') {
      this.#refusing = true
      this.cutAll()
    } else this.#stalled = true
    this.#partitionTimer = setTimeout(() => this.#endPartition(), ms)
  }

  get partitioned(): boolean {
    return this.#refusing || this.#stalled
  }

  /** No more faults: partitions end, held frames flow, and (with `cut`) live connections are cut so the
   *  peers reconnect and resync from state vectors, as after any outage. */
  heal(o: { cut?: boolean } = {}): void {
    this.faults = { ...NO_FAULTS }
    this.#endPartition()
    for (const c of this.#conns) for (const p of c.pipes) p.flushHeld()
    if (o.cut) this.cutAll()
  }

  async close(): Promise<void> {
    this.#endPartition()
    this.cutAll()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  get stalled(): boolean {
    return this.#stalled
  }

  #endPartition(): void {
    clearTimeout(this.#partitionTimer)
    this.#refusing = false
    if (this.#stalled) {
      this.#stalled = false
      for (const c of this.#conns) for (const p of c.pipes) p.pump()
    }
  }

  #accept(client: net.Socket): void {
    client.on('error', () => undefined)
    if (this.#refusing) {
      this.stats.refused++
      client.destroy()
      return
    }
    this.stats.connections++
    client.setNoDelay(true)
    const upstream = net.connect(this.targetPort, '127.0.0.1')
    upstream.setNoDelay(true)
    const conn = { client, upstream, closed: false } as Conn
    conn.pipes = [new Pipe(this, conn, upstream, 'up'), new Pipe(this, conn, client, 'down')]
    this.#conns.add(conn)
    client.on('data', (d) => conn.pipes[0].push(d))
    upstream.on('data', (d) => conn.pipes[1].push(d))
    const end = () => this.#drop(conn)
    for (const s of [client, upstream]) s.on('close', end).on('error', end)
  }

  /** Called by a pipe when a data frame passes: maybe the connection dies right here. */
  maybeCut(conn: Conn): boolean {
    if (this.faults.cut > 0 && this.random() < this.faults.cut) {
      this.#cut(conn)
      return true
    }
    return false
  }

  #cut(conn: Conn): void {
    if (conn.closed) return
    this.stats.cuts++
    // Half the time an abrupt reset, half an orderly FIN: peers meet both after real outages.
    const hard = this.random() < 0.5
    for (const s of [conn.client, conn.upstream]) (hard && s.resetAndDestroy ? s.resetAndDestroy() : s.destroy())
    this.#drop(conn)
  }

  #drop(conn: Conn): void {
    if (conn.closed) return
    conn.closed = true
    this.#conns.delete(conn)
    for (const p of conn.pipes) p.stop()
    conn.client.destroy()
    conn.upstream.destroy()
  }
}

/** One direction of one connection: HTTP upgrade passthrough, then whole frames with faults and delay. */
class Pipe {
  #buf = Buffer.alloc(0)
  #http = true
  #held: Buffer | undefined
  #heldTimer: NodeJS.Timeout | undefined
  #queue: Array<{ at: number; bytes: Buffer }> = []
  #lastAt = 0
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(
    private readonly proxy: FaultProxy,
    private readonly conn: Conn,
    private readonly out: net.Socket,
    private readonly dir: 'up' | 'down',
  ) {}

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk
    if (this.#http) {
      const end = this.#buf.indexOf('\r\n\r\n')
      if (end < 0) return
      this.#send(this.#buf.subarray(0, end + 4))
      this.#buf = this.#buf.subarray(end + 4)
      this.#http = false
    }
    for (;;) {
      const n = frameLength(this.#buf)
      if (n === 0) return
      const frame = this.#buf.subarray(0, n)
      this.#buf = this.#buf.subarray(n)
      this.#frame(frame)
      if (this.#stopped) return
    }
  }

  #frame(frame: Buffer): void {
    const opcode = frame[0]! & 0x0f
    const f = this.proxy.faults
    if (opcode >= 0x8) return this.#send(frame) // control frames (close, ping, pong) pass: they carry no data
    this.proxy.stats.frames++
    if (f.direction !== 'both' && f.direction !== this.dir) return this.#send(frame)
    if (this.proxy.maybeCut(this.conn)) return
    const r = this.proxy.random
    if (f.drop > 0 && r() < f.drop) {
      this.proxy.stats.dropped++
      return
    }
    const copies = f.duplicate > 0 && r() < f.duplicate ? 2 : 1
    if (copies === 2) this.proxy.stats.duplicated++
    if (!this.#held && f.reorder > 0 && r() < f.reorder) {
      this.proxy.stats.reordered++
      this.#held = copies === 2 ? Buffer.concat([frame, frame]) : Buffer.from(frame)
      this.#heldTimer = setTimeout(() => this.flushHeld(), REORDER_WAIT_MS)
      return
    }
    for (let i = 0; i < copies; i++) this.#send(frame)
    this.flushHeld()
  }

  flushHeld(): void {
    clearTimeout(this.#heldTimer)
    const held = this.#held
    this.#held = undefined
    if (held) this.#send(held)
  }

  #send(bytes: Buffer): void {
    const f = this.proxy.faults
    const delay = f.latencyMs + (f.jitterMs > 0 ? this.proxy.random() * f.jitterMs : 0)
    // Never earlier than the previous chunk: latency alone must not reorder a TCP stream.
    const at = Math.max(this.#lastAt, Date.now() + delay)
    this.#lastAt = at
    this.#queue.push({ at, bytes: Buffer.from(bytes) })
    this.pump()
  }

  pump(): void {
    clearTimeout(this.#timer)
    if (this.#stopped || this.proxy.stalled) return
    const now = Date.now()
    while (this.#queue.length && this.#queue[0]!.at <= now) {
      if (this.out.destroyed) return
      this.out.write(this.#queue.shift()!.bytes)
    }
    if (this.#queue.length) this.#timer = setTimeout(() => this.pump(), this.#queue[0]!.at - now)
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    clearTimeout(this.#heldTimer)
    this.#queue = []
  }
}

/** Bytes in the first complete WebSocket frame of `b` (RFC 6455 §5.2), or 0 when it is not all there yet. */
export function frameLength(b: Buffer): number {
  if (b.length < 2) return 0
  let len = b[1]! & 0x7f
  let off = 2
  if (len === 126) {
    if (b.length < 4) return 0
    len = b.readUInt16BE(2)
    off = 4
  } else if (len === 127) {
    if (b.length < 10) return 0
    len = Number(b.readBigUInt64BE(2))
    off = 10
  }
  if (b[1]! & 0x80) off += 4
  return b.length < off + len ? 0 : off + len
}

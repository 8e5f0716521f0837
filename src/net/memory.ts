/**
 * Deterministic in-memory transports (after automerge-repo's DummyNetworkAdapter): two connected ends that
 * honour the Transport contract without sockets. Delivery is asynchronous (setImmediate) and strictly FIFO
 * per direction, so handlers never re-enter each other and a run is reproducible. A close travels behind
 * the frames sent before it, as on a real socket.
 *
 * `pause()` stops delivery to one end, which makes the other end's `bufferedAmount` grow: that is how
 * tests play a slow consumer.
 *
 * `MemoryNet` (below) wires such pairs into a network of named nodes that can be partitioned and healed.
 */
import { CtxError } from '../errors.js'
import { TypedEmitter } from './emitter.js'
import { CloseCode, type Dialer, type Listener, type Transport, type TransportEvents } from './TransportInterface.js'

type Item = { frame: Uint8Array } | { close: { code: number; reason: string } }

let pairCounter = 0

export interface MemoryPairOptions {
  /** Frames above this close the pair with 1009, like a WebSocket's maxPayload. */
  maxFrameBytes?: number
}

export class MemoryTransport extends TypedEmitter<TransportEvents> implements Transport {
  readonly remote: string
  peer!: MemoryTransport
  #inbox: Item[] = []
  #inboxBytes = 0
  #scheduled = false
  #paused = false
  #closeEmitted = false
  #link: { closed: boolean; maxFrameBytes: number }

  constructor(remote: string, link: { closed: boolean; maxFrameBytes: number }) {
    super()
    this.remote = remote
    this.#link = link
  }

  get open(): boolean {
    return !this.#link.closed
  }

  /** Bytes sent by this end that the other end has not been handed yet. */
  get bufferedAmount(): number {
    return this.peer.#inboxBytes
  }

  send(frame: Uint8Array): void {
    if (this.#link.closed) return
    if (frame.length > this.#link.maxFrameBytes) {
      this.close(CloseCode.TooBig, `frame of ${frame.length} bytes exceeds ${this.#link.maxFrameBytes}`)
      return
    }
    this.peer.#enqueue({ frame: frame.slice() })
  }

  close(code: number, reason: string): void {
    if (this.#link.closed) return
    this.#link.closed = true
    this.peer.#enqueue({ close: { code, reason } })
    this.#enqueue({ close: { code, reason } })
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    this.#paused = false
    this.#schedule()
  }

  #enqueue(item: Item): void {
    this.#inbox.push(item)
    if ('frame' in item) this.#inboxBytes += item.frame.length
    this.#schedule()
  }

  #schedule(): void {
    if (this.#scheduled || this.#paused) return
    this.#scheduled = true
    setImmediate(() => this.#drain())
  }

  #drain(): void {
    this.#scheduled = false
    while (!this.#paused && this.#inbox.length > 0) {
      const item = this.#inbox.shift()!
      if ('frame' in item) {
        this.#inboxBytes -= item.frame.length
        if (!this.#closeEmitted) this.emit('message', item.frame)
      } else if (!this.#closeEmitted) {
        this.#closeEmitted = true
        this.#inbox = []
        this.#inboxBytes = 0
        this.emit('close', item.close.code, item.close.reason)
      }
    }
  }
}

/** Two connected in-memory transports: what one sends, the other receives. */
export function createConnectedPair(opts: MemoryPairOptions = {}): [MemoryTransport, MemoryTransport] {
  const n = ++pairCounter
  const link = { closed: false, maxFrameBytes: opts.maxFrameBytes ?? Number.POSITIVE_INFINITY }
  const a = new MemoryTransport(`memory:${n}b`, link)
  const b = new MemoryTransport(`memory:${n}a`, link)
  a.peer = b
  b.peer = a
  return [a, b]
}

/**
 * An in-memory network between named nodes: a `Dialer` per node and a `Listener` factory per node, as
 * `PeerManager` takes them, so whole meshes run in one process without sockets. `memory://<name>` reaches
 * the node listening under that name. `partition(groups)` cuts every live link between nodes of different
 * groups (as a pulled cable would: the ends see close 1006) and refuses new dials across groups until
 * `heal()`. It honours the same Dialer/Listener contract as `ws.ts` (test/net/dialer.contract.ts): several
 * `onConnection` callbacks, a connection nobody accepts is closed with 1001, and closing a listener closes
 * the connections it accepted.
 */
export class MemoryNet {
  /** Every URL dialled, in order, reachable or not: tests count retries with it. */
  readonly dials: string[] = []
  readonly #listeners = new Map<string, Array<(t: Transport) => void>>()
  readonly #links = new Set<{ from: string | undefined; to: string; ends: [MemoryTransport, MemoryTransport] }>()
  #group = new Map<string, number>()
  #unnamed = 0
  readonly #opts: MemoryPairOptions

  constructor(opts: MemoryPairOptions = {}) {
    this.#opts = opts
  }

  /** A listener factory for `name` (default: a fresh one); its URL is `memory://<name>`. */
  listenerFor(name = `node-${++this.#unnamed}`): () => Promise<Listener> {
    return async () => {
      const url = `memory://${name}`
      if (this.#listeners.has(name)) throw new CtxError('listen-failed', `${url} is already listening`)
      const callbacks: Array<(t: Transport) => void> = []
      this.#listeners.set(name, callbacks)
      return {
        url,
        port: 0,
        onConnection: (cb) => void callbacks.push(cb),
        close: async () => {
          if (this.#listeners.get(name) !== callbacks) return
          this.#listeners.delete(name)
          for (const l of [...this.#links]) if (l.to === name) l.ends[1].close(CloseCode.GoingAway, 'listener shutting down')
        },
      }
    }
  }

  /** A dialer for node `from`; without a name it is in no group and a partition never cuts it. */
  dialerFor(from?: string): Dialer {
    return {
      dial: async (url) => {
        this.dials.push(url)
        if (!url.startsWith('memory://')) throw new CtxError('bad-peer-url', `not a memory URL: ${url}`)
        const to = url.slice('memory://'.length)
        const callbacks = this.#listeners.get(to)
        if (!callbacks) throw new CtxError('unreachable', `nothing listens on ${url}`)
        if (!this.#reachable(from, to)) throw new CtxError('unreachable', `no route from ${from} to ${to}`)
        const ends = createConnectedPair(this.#opts)
        const link = { from, to, ends }
        this.#links.add(link)
        ends[0].on('close', () => this.#links.delete(link))
        if (callbacks.length === 0) ends[1].close(CloseCode.GoingAway, 'not accepting peers')
        for (const cb of callbacks) cb(ends[1])
        return ends[0]
      },
    }
  }

  /** A dialer outside every group (see `dialerFor`). */
  get dialer(): Dialer {
    return this.dialerFor()
  }

  /** Cuts every link between nodes in different groups and refuses new ones; unnamed nodes are group 0. */
  partition(groups: string[][]): void {
    this.#group = new Map(groups.flatMap((g, i) => g.map((n) => [n, i] as const)))
    for (const l of [...this.#links]) if (!this.#reachable(l.from, l.to)) l.ends[0].close(1006, 'partition')
  }

  heal(): void {
    this.#group.clear()
  }

  /** Cuts every live link of node `name` (1006), as the death of its process would; new dials still work. */
  drop(name: string): void {
    for (const l of [...this.#links]) if (l.from === name || l.to === name) l.ends[0].close(1006, 'peer gone')
  }

  #reachable(a: string | undefined, b: string): boolean {
    if (a === undefined) return true
    return (this.#group.get(a) ?? 0) === (this.#group.get(b) ?? 0)
  }
}

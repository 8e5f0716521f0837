/**
 * PeerSession: the protocol (see `protocol.ts`) for one `SyncHost` over one Transport.
 *
 * Before authentication the session reads only Hello, Auth and Error, all handled synchronously, and
 * touches nothing of the host but its identity; no document data (not even names) leaves before the other
 * side proved the secret. After it, frames are sealed (`channel.ts`) and queued into one promise chain so
 * updates are applied strictly in order and each is durable before anything after it is read.
 *
 * Sending goes through a bounded `FrameSender` (`sender.ts`): initial-sync diffs are produced only while
 * the transport has room, and a consumer too slow for the capped outbox is cut off with 1008. Live updates
 * come from the peer manager via `sendUpdate`; the document half of the protocol is `SyncState`.
 */
import { logger } from '../log.js'
import type { DocName } from '../ids.js'
import { newNonce, type SpaceCredentials } from './auth.js'
import { Reassembler, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_MESSAGE_BYTES } from './chunking.js'
import { plaintext, sessionCiphers, type Encryption } from './channel.js'
import { TypedEmitter } from './emitter.js'
import { ACCESS_REFUSED, checkHello, checkProof, prove } from './handshake.js'
import {
  decodeMessage, ProtocolError, ProtocolVersionError, PROTOCOL_VERSION, type HelloMessage, type Message, type Role,
} from './protocol.js'
import { FrameSender } from './sender.js'
import { SyncState } from './sync-state.js'
import type { PeerInfo, SyncHost } from './SyncHost.js'
import { CloseCode, type Transport } from './TransportInterface.js'

const log = logger('net:session')
const INTERNAL_ERROR = 1011

export { ACCESS_REFUSED }

export interface SessionTuning {
  encryption: Encryption
  maxFrameBytes: number
  maxMessageBytes: number
  handshakeTimeoutMs: number
  /** At most one Ack per document per this many ms. */
  ackDelayMs: number
  /** Stop producing sync data while this many bytes wait in the transport or outbox. */
  highWaterBytes: number
  /** Close with 1008 when more than this waits to be sent (or to be applied, inbound). */
  maxQueuedBytes: number
}

export const DEFAULT_TUNING: SessionTuning = {
  encryption: 'secret',
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  handshakeTimeoutMs: 10_000,
  ackDelayMs: 50,
  highWaterBytes: 1024 * 1024,
  maxQueuedBytes: 64 * 1024 * 1024,
}

export interface PeerSessionOptions extends Partial<SessionTuning> {
  host: SyncHost
  transport: Transport
  role: Role
  credentials: SpaceCredentials
}

export interface SessionClosed {
  code: number
  reason: string
  /** The other side (or we) refused access: wrong secret, other space, or a connection to ourselves. */
  refused: boolean
}

export interface SessionProgress {
  bytesSent: number
  bytesReceived: number
}

export type PeerSessionEvents = {
  authenticated: (peer: PeerInfo) => void
  synced: () => void
  /** Every live update sent so far is acknowledged. */
  settled: () => void
  closed: (info: SessionClosed) => void
  progress: (p: SessionProgress) => void
}

type Phase = 'hello' | 'auth' | 'open' | 'closed'

export class PeerSession extends TypedEmitter<PeerSessionEvents> {
  readonly role: Role
  readonly remote: string
  readonly host: SyncHost
  bytesReceived = 0
  /** ms epoch of the last frame received. */
  lastSeen: number | undefined
  peer: PeerInfo | undefined
  closedInfo: SessionClosed | undefined
  readonly whenClosed: Promise<SessionClosed>

  readonly #t: Transport
  readonly #creds: SpaceCredentials
  readonly #opts: SessionTuning
  readonly #nonce = newNonce()
  readonly #reassembler: Reassembler
  readonly #sender: FrameSender
  #phase: Phase = 'hello'
  #started = false
  #remoteHello: HelloMessage | undefined
  #rx = plaintext
  #closing: { code: number; reason: string } | undefined
  #handshakeTimer: NodeJS.Timeout | undefined
  #inbound: Promise<void> = Promise.resolve()
  #inboundBytes = 0
  readonly #inboundSizes: number[] = []
  #sync: SyncState | undefined
  #resolveClosed!: (info: SessionClosed) => void
  readonly #onFrame = (frame: Uint8Array): void => this.#receive(frame)
  readonly #onClose = (code: number, reason: string): void => this.#finish(code, reason)

  constructor(opts: PeerSessionOptions) {
    super()
    this.host = opts.host
    this.role = opts.role
    this.#t = opts.transport
    this.remote = opts.transport.remote
    this.#creds = opts.credentials
    const tuning = { ...DEFAULT_TUNING }
    for (const key of Object.keys(tuning) as Array<keyof SessionTuning>) {
      if (opts[key] !== undefined) (tuning as Record<string, unknown>)[key] = opts[key]
    }
    this.#opts = tuning
    this.#reassembler = new Reassembler({ maxMessageBytes: tuning.maxMessageBytes })
    this.#sender = new FrameSender(opts.transport, {
      ...tuning,
      onProgress: () => this.#progress(),
      onError: (err) => this.#failWith(err),
    })
    this.whenClosed = new Promise((resolve) => (this.#resolveClosed = resolve))
  }

  get bytesSent(): number {
    return this.#sender.bytesSent
  }

  /** Who the other side says it is, before (or without) proving it; for logs and status only. */
  get claimedPeer(): PeerInfo | undefined {
    return this.peer ?? this.#remoteHello?.peer
  }

  get authenticated(): boolean {
    return this.#phase === 'open'
  }

  get isSynced(): boolean {
    return this.#sync?.synced ?? false
  }

  /** True while live updates sent through this session still wait for the other side's Ack. */
  get unsettled(): boolean {
    return this.#sync?.awaitingAcks ?? false
  }

  /** Wires the transport and sends Hello. Call once, after attaching event listeners. */
  start(): void {
    if (this.#started) return
    this.#started = true
    this.#t.on('message', this.#onFrame)
    this.#t.on('close', this.#onClose)
    if (!this.#t.open) return this.#finish(CloseCode.GoingAway, 'transport closed before the session started')
    this.#send({
      type: 'Hello',
      proto: PROTOCOL_VERSION,
      spaceId: this.host.spaceId,
      peer: this.host.self,
      nonce: this.#nonce,
      role: this.role,
      maxFrameBytes: this.#opts.maxFrameBytes,
    })
    this.#handshakeTimer = setTimeout(() => this.#fail(CloseCode.Policy, 'handshake timed out'), this.#opts.handshakeTimeoutMs)
    this.#handshakeTimer.unref()
  }

  /** Sends a live update; false (and nothing sent) unless authenticated and open. */
  sendUpdate(doc: DocName, update: Uint8Array): boolean {
    if (this.#phase !== 'open' || this.#closing || !this.#sync) return false
    this.#sync.expectAck(doc, update)
    this.#send({ type: 'Update', doc, update })
    return true
  }

  close(code: number = CloseCode.Normal, reason = 'closing'): void {
    if (this.#closing || this.#phase === 'closed') return
    log('%s: closing %d %s', this.remote, code, reason)
    this.#closing = { code, reason }
    this.#stop()
    this.#t.close(code, reason)
    // Not started: nobody listens to the transport's close event, so settle here.
    if (!this.#started) this.#finish(code, reason)
  }

  // ── receiving ──

  #receive(frame: Uint8Array): void {
    if (this.#phase === 'closed' || this.#closing) return
    this.bytesReceived += frame.length
    this.lastSeen = Date.now()
    this.#progress()
    if (frame.length > this.#opts.maxFrameBytes) {
      return this.#fail(CloseCode.TooBig, `frame of ${frame.length} bytes exceeds ${this.#opts.maxFrameBytes}`)
    }
    let msg: Message
    let size = frame.length
    try {
      msg = decodeMessage(this.#rx.open(frame))
      if (msg.type === 'Chunk') {
        if (this.#phase !== 'open') throw new ProtocolError('chunked message before authentication')
        const whole = this.#reassembler.push(msg)
        if (!whole) return
        size = whole.length
        msg = decodeMessage(whole)
        if (msg.type === 'Chunk') throw new ProtocolError('a chunk inside a chunk')
      }
      if (this.#phase !== 'open') return this.#handshake(msg)
    } catch (err) {
      return this.#failWith(err)
    }
    this.#enqueue(msg, size)
  }

  /** Post-auth messages run one at a time, in order; each awaits the host before the next starts. */
  #enqueue(msg: Message, size: number): void {
    this.#inboundBytes += size
    this.#inboundSizes.push(size)
    // The message being applied does not count (its size is bounded on its own); a backlog behind it does.
    if (this.#inboundBytes - this.#inboundSizes[0]! > this.#opts.maxQueuedBytes) {
      return this.#fail(CloseCode.Policy, 'peer sends faster than updates can be applied')
    }
    this.#inbound = this.#inbound
      .then(async () => {
        if (this.#closing || this.#phase === 'closed' || !this.#sync) return
        if (msg.type === 'Error') return this.#remoteError(msg.code, msg.message)
        await this.#sync.handle(msg)
      })
      .catch((err: unknown) => this.#failWith(err))
      .finally(() => {
        this.#inboundBytes -= size
        this.#inboundSizes.shift()
      })
  }

  #handshake(msg: Message): void {
    if (msg.type === 'Error') return this.#remoteError(msg.code, msg.message)
    if (this.#phase === 'hello') {
      if (msg.type !== 'Hello') throw new ProtocolError(`expected Hello, got ${msg.type}`)
      const refusal = checkHello(this.host, this.role, msg)
      if (refusal) return this.#fail(refusal.code, refusal.message)
      this.#remoteHello = msg
      this.#sender.peerMaxFrameBytes = msg.maxFrameBytes
      this.#phase = 'auth'
      this.#send({ type: 'Auth', signature: prove(this.#creds, this.host, this.role, this.#nonce, msg) })
      return
    }
    if (msg.type !== 'Auth') throw new ProtocolError(`expected Auth, got ${msg.type}`)
    const hello = this.#remoteHello!
    if (!checkProof(this.#creds, this.host, this.#nonce, hello, msg.signature)) {
      return this.#fail(CloseCode.Unauthenticated, ACCESS_REFUSED)
    }
    // Their Auth was their last plaintext frame, and nothing of ours has been sent since our Auth.
    const [dialNonce, acceptNonce] = this.role === 'dial' ? [this.#nonce, hello.nonce] : [hello.nonce, this.#nonce]
    const ciphers = sessionCiphers(this.#opts.encryption, this.#creds.sessionRoot, this.role, dialNonce, acceptNonce)
    this.#sender.cipher = ciphers.tx
    this.#rx = ciphers.rx
    this.#phase = 'open'
    clearTimeout(this.#handshakeTimer)
    this.peer = hello.peer
    log('%s: authenticated %s (%s)', this.remote, hello.peer.id, hello.peer.name)
    const sync = new SyncState(this.host, hello.peer.id, {
      send: (m) => this.#send(m),
      pump: () => this.#sender.pump(),
      onSynced: () => this.emit('synced'),
      onSettled: () => this.emit('settled'),
      ackDelayMs: this.#opts.ackDelayMs,
      isOpen: () => !this.#closing && this.#phase === 'open',
    })
    this.#sync = sync
    this.#sender.producer = sync
    this.emit('authenticated', hello.peer)
    // A listener may have closed us (a duplicate connection); then nothing is sent.
    if (!this.#closing) sync.start()
  }

  #remoteError(code: number, message: string): void {
    log('%s: peer reports %d %s', this.remote, code, message)
    this.close(code, message)
  }

  // ── sending and closing ──

  /** Never throws: a message that cannot go out fails the session instead. */
  #send(msg: Message): void {
    if (this.#closing || this.#phase === 'closed') return
    try {
      this.#sender.send(msg)
    } catch (err) {
      this.#failWith(err)
    }
  }

  #failWith(err: unknown): void {
    if (err instanceof ProtocolVersionError) return this.#fail(CloseCode.ProtocolError, err.message)
    if (err instanceof ProtocolError) return this.#fail(err.closeCode, err.message)
    log('%s: internal error %O', this.remote, err)
    this.#fail(INTERNAL_ERROR, `internal error: ${(err as Error)?.message ?? String(err)}`)
  }

  /** Tells the other side why (when that frame would not overtake queued ones), then closes. */
  #fail(code: number, message: string): void {
    if (this.#closing || this.#phase === 'closed') return
    log('%s: failing %d %s', this.remote, code, message)
    try {
      this.#sender.sendIfIdle({ type: 'Error', code, message })
    } catch {
      // The close code and reason still say enough.
    }
    this.close(code, message)
  }

  #stop(): void {
    clearTimeout(this.#handshakeTimer)
    this.#sender.stop()
    this.#sync?.stop()
  }

  #finish(code: number, reason: string): void {
    if (this.#phase === 'closed') return
    this.#phase = 'closed'
    this.#stop()
    this.#t.off('message', this.#onFrame)
    this.#t.off('close', this.#onClose)
    const final = this.#closing ?? { code, reason }
    const info: SessionClosed = {
      code: final.code,
      reason: final.reason,
      refused: final.code === CloseCode.Unauthenticated || final.code === CloseCode.Forbidden,
    }
    this.closedInfo = info
    log('%s: closed %d %s', this.remote, info.code, info.reason)
    this.#resolveClosed(info)
    this.emit('closed', info)
  }

  #progress(): void {
    this.emit('progress', { bytesSent: this.bytesSent, bytesReceived: this.bytesReceived })
  }
}

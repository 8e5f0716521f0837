/**
 * The document half of a PeerSession, once both sides are authenticated: manifest out, diffs for what the
 * other side lacks, Step2End/Synced bookkeeping, live updates in, and acknowledgements both ways.
 *
 * It also tracks what the peer is known to hold per document (its manifest state vector, extended by every
 * update it sent and every Ack) and reports it to `host.noteRemoteState`, so the host can tell which files
 * are pending and which are synced with whom.
 */
import type { DocName, PeerId } from '../ids.js'
import { ProtocolError, type Message } from './protocol.js'
import {
  EMPTY_STATE_VECTOR, covers, encodeStateVector, extendWithUpdate, mergeInto, parseStateVector,
  updateExtent, type StateVector,
} from './statevector.js'
import type { SyncHost } from './SyncHost.js'

/** Manifest frames stay well below any frame limit, so they never need chunking. */
const MANIFEST_BATCH_BYTES = 64 * 1024

export interface SyncIO {
  send(m: Message): void
  /** Asks the session to call `produce` while the transport has room. */
  pump(): void
  onSynced(): void
  onSettled(): void
  isOpen(): boolean
  ackDelayMs: number
}

type Work = { doc: DocName; stateVector: Uint8Array } | 'end'

export class SyncState {
  synced = false
  readonly #host: SyncHost
  readonly #peer: PeerId
  readonly #io: SyncIO
  #work: Work[] = []
  readonly #listed = new Set<DocName>()
  #manifestEnd = false
  #step2EndSent = false
  #step2EndReceived = false
  #syncedReceived = false
  readonly #known = new Map<DocName, StateVector>()
  /** Our state vector when we sent a document's diff: the peer holds it once it confirms Synced. */
  readonly #sent = new Map<DocName, StateVector>()
  readonly #awaiting = new Map<DocName, StateVector>()
  readonly #ackTimers = new Map<DocName, NodeJS.Timeout>()

  constructor(host: SyncHost, peer: PeerId, io: SyncIO) {
    this.#host = host
    this.#peer = peer
    this.#io = io
  }

  get hasWork(): boolean {
    return this.#work.length > 0
  }

  get awaitingAcks(): boolean {
    return this.#awaiting.size > 0
  }

  /** Sends the manifest: every document with its state vector, in frames of bounded size. */
  start(): void {
    let entries: Array<{ doc: string; stateVector: Uint8Array }> = []
    let size = 0
    for (const doc of this.#host.docNames()) {
      const stateVector = this.#host.stateVector(doc)
      entries.push({ doc, stateVector })
      size += Buffer.byteLength(doc) + stateVector.length + 8
      if (size >= MANIFEST_BATCH_BYTES) {
        this.#io.send({ type: 'Manifest', entries })
        entries = []
        size = 0
      }
    }
    if (entries.length > 0) this.#io.send({ type: 'Manifest', entries })
    this.#io.send({ type: 'ManifestEnd' })
  }

  /** Produces one piece of initial-sync output; called by the session only while it has room to send. */
  produce(): void {
    const item = this.#work.shift()
    if (item === undefined) return
    if (item === 'end') {
      this.#step2EndSent = true
      this.#io.send({ type: 'Step2End' })
      return
    }
    const diff = this.#host.encodeDiff(item.doc, item.stateVector)
    if (diff === null) return
    this.#sent.set(item.doc, parseStateVector(this.#host.stateVector(item.doc)))
    this.#io.send({ type: 'SyncStep2', doc: item.doc, update: diff })
  }

  /** Records that a live update went out, so an Ack covering it can settle it. */
  expectAck(doc: DocName, update: Uint8Array): void {
    const { to } = updateExtent(update)
    const known = this.#known.get(doc)
    if (to.size === 0 || (known && covers(known, to))) return
    const need = this.#awaiting.get(doc) ?? new Map<number, number>()
    this.#awaiting.set(doc, mergeInto(need, to))
  }

  async handle(msg: Message): Promise<void> {
    switch (msg.type) {
      case 'Manifest': {
        if (this.#manifestEnd) throw new ProtocolError('Manifest after ManifestEnd')
        // Validate the whole frame before acting on any of it.
        const entries = msg.entries.map((e) => ({
          doc: this.#accept(e.doc),
          stateVector: e.stateVector,
          parsed: parseStateVector(e.stateVector),
        }))
        for (const e of entries) {
          this.#listed.add(e.doc)
          this.#learn(e.doc, e.parsed)
          this.#work.push({ doc: e.doc, stateVector: e.stateVector })
        }
        this.#io.pump()
        return
      }
      case 'ManifestEnd': {
        if (this.#manifestEnd) throw new ProtocolError('duplicate ManifestEnd')
        this.#manifestEnd = true
        for (const doc of this.#host.docNames()) {
          if (!this.#listed.has(doc)) this.#work.push({ doc, stateVector: EMPTY_STATE_VECTOR })
        }
        this.#work.push('end')
        this.#io.pump()
        return
      }
      case 'SyncStep2':
      case 'Update': {
        const doc = this.#accept(msg.doc)
        try {
          await this.#host.applyRemote(doc, msg.update, this.#peer)
        } catch (err) {
          throw new ProtocolError(`update for ${doc} rejected: ${(err as Error)?.message ?? String(err)}`)
        }
        const known = extendWithUpdate(this.#known.get(doc) ?? new Map(), msg.update)
        this.#learn(doc, known)
        if (msg.type === 'Update') this.#scheduleAck(doc)
        return
      }
      case 'Step2End':
        if (this.#step2EndReceived) throw new ProtocolError('duplicate Step2End')
        this.#step2EndReceived = true
        this.#io.send({ type: 'Synced' })
        this.#checkSynced()
        return
      case 'Synced':
        if (!this.#step2EndSent || this.#syncedReceived) throw new ProtocolError('unexpected Synced')
        this.#syncedReceived = true
        for (const [doc, sv] of this.#sent) this.#learn(doc, sv)
        this.#sent.clear()
        this.#checkSynced()
        return
      case 'Ack': {
        const doc = this.#accept(msg.doc)
        this.#learn(doc, parseStateVector(msg.stateVector))
        return
      }
      default:
        throw new ProtocolError(`unexpected ${msg.type} after authentication`)
    }
  }

  stop(): void {
    for (const timer of this.#ackTimers.values()) clearTimeout(timer)
    this.#ackTimers.clear()
  }

  #accept(name: string): DocName {
    if (!this.#host.acceptDoc(name)) {
      throw new ProtocolError(`refused document name ${JSON.stringify(name.slice(0, 200))}`)
    }
    return name
  }

  /** Merges what the peer holds for `doc`, tells the host, and settles acks it covers. */
  #learn(doc: DocName, sv: StateVector): void {
    const known = mergeInto(this.#known.get(doc) ?? new Map(), sv)
    this.#known.set(doc, known)
    this.#host.noteRemoteState?.(doc, this.#peer, encodeStateVector(known))
    const need = this.#awaiting.get(doc)
    if (need && covers(known, need)) {
      this.#awaiting.delete(doc)
      if (this.#awaiting.size === 0) this.#io.onSettled()
    }
  }

  #scheduleAck(doc: DocName): void {
    if (this.#ackTimers.has(doc) || !this.#io.isOpen()) return
    const timer = setTimeout(() => {
      this.#ackTimers.delete(doc)
      if (this.#io.isOpen()) this.#io.send({ type: 'Ack', doc, stateVector: this.#host.stateVector(doc) })
    }, this.#io.ackDelayMs)
    timer.unref()
    this.#ackTimers.set(doc, timer)
  }

  #checkSynced(): void {
    if (this.synced || !this.#step2EndReceived || !this.#syncedReceived) return
    this.synced = true
    this.#io.onSynced()
  }
}

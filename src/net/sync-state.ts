/**
 * The document half of a PeerSession, once both sides are authenticated: manifest out, diffs for what the
 * other side lacks, Step2End/Synced bookkeeping, live updates in, and acknowledgements both ways.
 *
 * It tracks what the peer is known to hold per document (its manifest state vector, extended by every
 * update it sent, by our diffs once it confirms Synced, and by our live updates once it acknowledges them)
 * and reports it to `host.noteRemoteState`, so the host can tell which files are pending and which are
 * synced with whom.
 *
 * Acks name a count, not a state vector (see `protocol.ts`): Ack n means the peer durably applied our
 * first n Updates. For each Update we keep the Yjs ranges it carried; an Ack teaches us those ranges. That
 * is never more than the peer holds: updates of one document are announced in the order the host applied
 * them and every one since authentication is sent, so the ranges join onto what our diff (produced after
 * authentication) gave it — which is why acks that arrive before Synced wait for it before they count.
 *
 * Document names travel once per direction (`DocRef`); this class keeps both numbering tables, so it must
 * see every message that names a document, in wire order — the session sends and handles them in order.
 */
import type { DocName, PeerId } from '../ids.js'
import { encodeMessage, ProtocolError, type DocRef, type Message } from './protocol.js'
import {
  EMPTY_STATE_VECTOR, encodeStateVector, extendWithUpdate, mergeInto, parseStateVector, updateExtent,
  type StateVector,
} from './statevector.js'
import type { SyncHost } from './SyncHost.js'
import { CloseCode } from './TransportInterface.js'

/** Manifest frames stay well below any frame limit, so they never need chunking. */
const MANIFEST_BATCH_BYTES = 64 * 1024
/** Ranges of unacknowledged updates kept per session; beyond it the oldest are forgotten (we then
 *  underestimate what the peer holds until the next session, which only delays `synced`). */
const MAX_UNACKED = 65_536
/** Documents one direction of a session may name. */
const MAX_DOC_REFS = 1_000_000

export interface SyncIO {
  /** `encoded`: the message's bytes when already encoded (shared between sessions). */
  send(m: Message, encoded?: Uint8Array): void
  /** Asks the session to call `produce` while the transport has room. */
  pump(): void
  onSynced(): void
  onSettled(): void
  isOpen(): boolean
  ackDelayMs: number
  /** We may send document data (false under a read-only relay token). */
  canSend: boolean
  /** The other side may send document data (false for a read-only peer of a relay). */
  acceptWrites: boolean
  /**
   * Documents the host refuses are skipped rather than fatal. For sessions with a relay: it holds whatever
   * any writer of the space sent under a plain relative name (it has no globs), and one such document must
   * not cut every peer off the relay. Peer to peer a refused name closes the session (1002).
   */
  skipRefusedDocs?: boolean
}

type Work = { doc: DocName; stateVector: Uint8Array } | 'end'

/**
 * One update fans out to many sessions (a relay relays each to every peer of the space): parse its ranges
 * once, and encode its Update message once per document number — sessions that learnt the space's
 * documents in the same order (the relay's manifest order) all call it the same, so they share the bytes.
 * Both are kept on the update object itself (non-enumerable), not in WeakMaps: a weak table keyed by
 * short-lived objects keeps the capacity it reached between full GCs, as the render cache's did
 * (`crdt/render.ts`).
 */
const EXTENT = Symbol('extent')
const ENCODED = Symbol('encoded')
type Cached = Uint8Array & { [EXTENT]?: StateVector; [ENCODED]?: Map<number, Uint8Array> }
function cache<K extends typeof EXTENT | typeof ENCODED>(u: Cached, k: K, v: NonNullable<Cached[K]>): NonNullable<Cached[K]> {
  Object.defineProperty(u, k, { value: v, enumerable: false })
  return v
}
function extentOf(update: Cached): StateVector {
  return update[EXTENT] ?? cache(update, EXTENT, updateExtent(update).to)
}
function encodedUpdate(update: Cached, id: number): Uint8Array {
  const byId = update[ENCODED] ?? cache(update, ENCODED, new Map<number, Uint8Array>())
  let bytes = byId.get(id)
  if (!bytes) byId.set(id, (bytes = encodeMessage({ type: 'Update', doc: { id }, update })))
  return bytes
}

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
  /** What the peer holds once it confirms Synced: our diffs, and live updates it acknowledged before that. */
  readonly #sent = new Map<DocName, StateVector>()
  readonly #outIds = new Map<DocName, number>()
  /** Names the peer gave, by number; null for a name skipped (`skipRefusedDocs`). */
  readonly #inNames: Array<DocName | null> = []
  #sentUpdates = 0
  #acked = 0
  #unacked: Array<{ seq: number; doc: DocName; to: StateVector }> = []
  #unackedHead = 0
  #appliedUpdates = 0
  #ackedToPeer = 0
  #ackTimer: NodeJS.Timeout | undefined

  constructor(host: SyncHost, peer: PeerId, io: SyncIO) {
    this.#host = host
    this.#peer = peer
    this.#io = io
  }

  get hasWork(): boolean {
    return this.#work.length > 0
  }

  get awaitingAcks(): boolean {
    return this.#acked < this.#sentUpdates
  }

  /** Sends the manifest: every document with its state vector, in frames of bounded size. */
  start(): void {
    let entries: Array<{ doc: DocRef; stateVector: Uint8Array }> = []
    let size = 0
    for (const doc of this.#host.docNames()) {
      const stateVector = this.#host.stateVector(doc)
      entries.push({ doc: this.#ref(doc), stateVector })
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
    if (!this.#io.canSend) return
    const diff = this.#host.encodeDiff(item.doc, item.stateVector)
    if (diff === null) return
    this.#sent.set(item.doc, mergeInto(this.#sent.get(item.doc) ?? new Map(), parseStateVector(this.#host.stateVector(item.doc))))
    this.#io.send({ type: 'SyncStep2', doc: this.#ref(item.doc), update: diff })
  }

  /** Sends a live update, remembering its ranges until the peer acknowledges it. False when we may not. */
  sendUpdate(doc: DocName, update: Uint8Array): boolean {
    if (!this.#io.canSend) return false
    const seq = ++this.#sentUpdates
    const to = extentOf(update)
    if (to.size > 0) {
      this.#unacked.push({ seq, doc, to })
      if (this.#unacked.length - this.#unackedHead > MAX_UNACKED) this.#unackedHead++
      this.#compactUnacked()
    }
    const ref = this.#ref(doc)
    const msg: Message = { type: 'Update', doc: ref, update }
    this.#io.send(msg, 'id' in ref ? encodedUpdate(update, ref.id) : undefined)
    return true
  }

  async handle(msg: Message): Promise<void> {
    switch (msg.type) {
      case 'Manifest': {
        if (this.#manifestEnd) throw new ProtocolError('Manifest after ManifestEnd')
        // Validate the whole frame before acting on any of it.
        const entries = msg.entries.map((e) => ({
          doc: this.#resolve(e.doc),
          stateVector: e.stateVector,
          parsed: parseStateVector(e.stateVector),
        }))
        for (const e of entries) {
          if (e.doc === null) continue
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
        const doc = this.#resolve(msg.doc)
        if (!this.#io.acceptWrites) {
          throw new ProtocolError('read-only access: changes from this peer are refused', CloseCode.Forbidden)
        }
        if (doc === null) {
          // Skipped, but still counted: the peer's Acks name how many Updates we took.
          if (msg.type === 'Update') {
            this.#appliedUpdates++
            this.#scheduleAck()
          }
          return
        }
        try {
          await this.#host.applyRemote(doc, msg.update, this.#peer)
        } catch (err) {
          // A host that knows better (a relay whose disk failed: 1011) picks the close code itself.
          if (err instanceof ProtocolError) throw err
          throw new ProtocolError(`update for ${doc} rejected: ${(err as Error)?.message ?? String(err)}`)
        }
        this.#learn(doc, extendWithUpdate(this.#known.get(doc) ?? new Map(), msg.update))
        if (msg.type === 'Update') {
          this.#appliedUpdates++
          this.#scheduleAck()
        }
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
      case 'Ack':
        return this.#onAck(msg.seq)
      default:
        throw new ProtocolError(`unexpected ${msg.type} after authentication`)
    }
  }

  stop(): void {
    clearTimeout(this.#ackTimer)
    this.#ackTimer = undefined
  }

  #onAck(seq: number): void {
    if (seq <= this.#acked || seq > this.#sentUpdates) {
      throw new ProtocolError(`ack of update ${seq} out of order (sent ${this.#sentUpdates}, acknowledged ${this.#acked})`)
    }
    this.#acked = seq
    const reached = new Map<DocName, StateVector>()
    while (this.#unackedHead < this.#unacked.length && this.#unacked[this.#unackedHead]!.seq <= seq) {
      const e = this.#unacked[this.#unackedHead++]!
      reached.set(e.doc, mergeInto(reached.get(e.doc) ?? new Map(), e.to))
    }
    this.#compactUnacked()
    for (const [doc, to] of reached) {
      if (this.#syncedReceived) this.#learn(doc, to)
      else this.#sent.set(doc, mergeInto(this.#sent.get(doc) ?? new Map(), to))
    }
    if (this.#acked === this.#sentUpdates) this.#io.onSettled()
  }

  /** Drops acknowledged entries: all at once when every update is acknowledged (the usual case in a live
   *  session: otherwise up to a thousand acked entries, each with its ranges, stayed referenced and were
   *  promoted to the old generation before becoming garbage), else in halves once enough accumulate. */
  #compactUnacked(): void {
    if (this.#unackedHead > 0 && this.#unackedHead === this.#unacked.length) {
      this.#unacked = []
      this.#unackedHead = 0
    } else if (this.#unackedHead > 1024 && this.#unackedHead * 2 > this.#unacked.length) {
      this.#unacked = this.#unacked.slice(this.#unackedHead)
      this.#unackedHead = 0
    }
  }

  /** How we name `doc` to the peer: in full the first time, by its number after. */
  #ref(doc: DocName): DocRef {
    const id = this.#outIds.get(doc)
    if (id !== undefined) return { id }
    this.#outIds.set(doc, this.#outIds.size + 1)
    return { name: doc }
  }

  /**
   * The document a reference from the peer means; a new name is validated by the host first. Null: a
   * refused name that this session skips (`skipRefusedDocs`).
   */
  #resolve(ref: DocRef): DocName | null {
    if ('id' in ref) {
      const name = this.#inNames[ref.id - 1]
      if (name === undefined) throw new ProtocolError(`unknown document id ${ref.id}`)
      return name
    }
    if (this.#inNames.length >= MAX_DOC_REFS) throw new ProtocolError('too many documents named', CloseCode.Policy)
    const name = this.#host.acceptDoc(ref.name) ? ref.name : null
    if (name === null && !this.#io.skipRefusedDocs && !this.#host.skipDoc?.(ref.name)) {
      throw new ProtocolError(`refused document name ${JSON.stringify(ref.name.slice(0, 200))}`)
    }
    this.#inNames.push(name)
    return name
  }

  /** Merges what the peer holds for `doc` and tells the host. */
  #learn(doc: DocName, sv: StateVector): void {
    const known = mergeInto(this.#known.get(doc) ?? new Map(), sv)
    this.#known.set(doc, known)
    this.#host.noteRemoteState?.(doc, this.#peer, encodeStateVector(known))
  }

  #scheduleAck(): void {
    if (this.#ackTimer || !this.#io.isOpen()) return
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined
      if (!this.#io.isOpen() || this.#appliedUpdates === this.#ackedToPeer) return
      this.#ackedToPeer = this.#appliedUpdates
      this.#io.send({ type: 'Ack', seq: this.#ackedToPeer })
    }, this.#io.ackDelayMs)
    this.#ackTimer.unref()
  }

  #checkSynced(): void {
    if (this.synced || !this.#step2EndReceived || !this.#syncedReceived) return
    this.synced = true
    this.#io.onSynced()
  }
}

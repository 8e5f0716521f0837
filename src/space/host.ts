/**
 * The space as the network layer sees it: named Yjs documents (`SyncHost`). Names from the wire are
 * checked against the tracked globs before anything is created; updates are validated before they touch
 * a model (`crdt/guard.ts`; a refused one ends the session with 1008), and acknowledged only once durable.
 */
import * as Y from 'yjs'
import type { DocName, PeerId, SpaceId } from '../ids.js'
import { encodeStateVector } from '../net/statevector.js'
import type { PeerInfo, SyncHost } from '../net/SyncHost.js'
import { hostName } from './secrets.js'
import { RefusedUpdateError } from '../crdt/guard.js'
import { ProtocolError } from '../net/wire.js'
import { CloseCode } from '../net/TransportInterface.js'
import type { Space } from './space.js'

const EMPTY_SV = Y.encodeStateVector(new Y.Doc())

export class SpaceHost implements SyncHost {
  readonly spaceId: SpaceId
  readonly self: PeerInfo

  constructor(private readonly space: Space) {
    this.spaceId = space.syncId
    this.self = { id: space.identity.id, name: space.author.name, kind: space.author.kind, host: hostName() }
  }

  docNames(): Iterable<DocName> {
    return [...this.space.docs()].filter((e) => !e.model.isEmpty && e.damaged === null).map((e) => e.name)
  }

  stateVector(doc: DocName): Uint8Array {
    const e = this.space.doc(doc)
    return e ? e.durableStateVector() : EMPTY_SV
  }

  encodeDiff(doc: DocName, remoteStateVector: Uint8Array): Uint8Array | null {
    const e = this.space.doc(doc)
    // While its store fails nothing of it is sent: the updates waiting could still be lost here, and
    // whoever took them would hold what this machine might re-create under a new id after a crash. A
    // damaged document (its stored state outside the model's limits) is never sent either.
    if (!e || e.model.isEmpty || e.storeError || e.damaged !== null) return null
    const u = e.model.encodeDiff(remoteStateVector)
    // An update with no structs and an empty delete set is two zero bytes.
    return u.length <= 2 ? null : u
  }

  acceptDoc(name: string): name is DocName {
    return this.space.acceptName(name) === name
  }

  async applyRemote(doc: DocName, update: Uint8Array, from: PeerId): Promise<void> {
    try {
      await this.space.applyRemote(doc, update, from)
    } catch (err) {
      // A well-formed update that would take the document outside the limits: the session ends (1008).
      if (err instanceof RefusedUpdateError) throw new ProtocolError(`update refused: ${err.reason}`, CloseCode.Policy)
      throw err
    }
  }

  onUpdate(listener: (doc: DocName, update: Uint8Array, origin: PeerId | null) => void): () => void {
    return this.space.onUpdate(listener)
  }

  noteRemoteState(doc: DocName, _peer: PeerId, stateVector: Uint8Array): void {
    const e = this.space.doc(doc)
    if (!e) return
    // A peer's claim counts only up to what we hold: a manifest claiming clocks nobody has written yet (a
    // bug, or a hostile peer) would otherwise mark every later local edit as acknowledged — `status` and
    // `sync` saying "synced" while nothing was sent — and fake client ids would pile up in the sidecar.
    e.noteRemoteState(clampTo(stateVector, e.model.stateVector()))
    this.space.emit('summary')
  }
}

function clampTo(remote: Uint8Array, own: Uint8Array): Uint8Array {
  const mine = Y.decodeStateVector(own)
  const kept = new Map<number, number>()
  for (const [client, clock] of Y.decodeStateVector(remote)) {
    const c = Math.min(clock, mine.get(client) ?? 0)
    if (c > 0) kept.set(client, c)
  }
  return encodeStateVector(kept)
}

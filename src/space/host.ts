/**
 * The space as the network layer sees it: named Yjs documents (`SyncHost`). Names from the wire are
 * checked against the tracked globs before anything is created; updates are validated before they touch
 * a model (`crdt/guard.ts`; a refused one ends the session with 1008), and acknowledged only once durable.
 */
import type { DocName, PeerId, SpaceId } from '../ids.js'
import { EMPTY_STATE_VECTOR } from '../net/statevector.js'
import type { PeerInfo, SyncHost } from '../net/SyncHost.js'
import { hostName } from './secrets.js'
import { RefusedUpdateError } from '../crdt/guard.js'
import { ProtocolError } from '../net/wire.js'
import { CloseCode } from '../net/TransportInterface.js'
import { normalizeDocPath } from '../fs/globs.js'
import type { HostContext } from './context.js'

export class SpaceHost implements SyncHost {
  readonly spaceId: SpaceId
  readonly self: PeerInfo

  constructor(private readonly space: HostContext) {
    this.spaceId = space.syncId
    this.self = { id: space.identity.id, name: space.author.name, kind: space.author.kind, host: hostName() }
  }

  docNames(): Iterable<DocName> {
    return [...this.space.docs()].filter((e) => !e.model.isEmpty && e.damaged === null).map((e) => e.name)
  }

  stateVector(doc: DocName): Uint8Array {
    const e = this.space.doc(doc)
    return e ? e.durableStateVector() : EMPTY_STATE_VECTOR
  }

  encodeDiff(doc: DocName, remoteStateVector: Uint8Array): Uint8Array | null {
    const e = this.space.doc(doc)
    // While its store fails nothing of it is sent: the updates waiting could still be lost here, and
    // whoever took them would hold what this machine might re-create under a new id after a crash. A
    // damaged document (its stored state outside the model's limits) is never sent either.
    if (!e || e.model.isEmpty || e.storeError || e.damaged !== null) return null
    return e.model.diffFor(remoteStateVector)
  }

  acceptDoc(name: string): name is DocName {
    return this.space.acceptName(name) === name
  }

  /**
   * A well-formed name this clone's globs do not match: a peer whose `ctxsync.yaml` tracks more (edited
   * there, not committed yet). Skipped, with a warning once per name: refusing it closed the session at
   * every reconnect, and nothing else synced with that peer (black-box tester).
   */
  skipDoc(name: string): boolean {
    try {
      normalizeDocPath(this.space.root, name, () => true)
    } catch {
      return false
    }
    if (!this.#skipped.has(name) && this.#skipped.size < 100) {
      this.#skipped.add(name)
      this.space.warn(`a peer shares ${name}, which this clone does not track: skipped (the peers' ctxsync.yaml track different files; commit and pull it, then restart watch)`)
    }
    return true
  }

  readonly #skipped = new Set<string>()

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
    // Counted only up to what we hold (TrackedFile.notedRemoteState): a manifest claiming clocks nobody has
    // written yet (a bug, or a hostile peer) would otherwise mark every later local edit as acknowledged.
    this.space.noteRemoteState(doc, stateVector)
  }
}

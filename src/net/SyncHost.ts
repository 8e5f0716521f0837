/**
 * SyncHost contract: what the network layer needs from whoever owns the documents.
 *
 * `net` knows nothing of files: a document is a named Yjs document and a name is an opaque string that the
 * host validates (`acceptDoc`). The space orchestrator implements this over its file models and sidecars;
 * tests implement it over plain in-memory `Y.Doc`s (`test/net/helpers.ts`).
 *
 * Updates are Yjs v1 updates. Applying an update is idempotent (Yjs), so duplicates on the wire are harmless.
 */
import type { DocName, PeerId, SpaceId } from '../ids.js'

/** `relay`: a `ctxsync serve` process, which holds no secret and relays between the peers of a space. */
export type PeerKind = 'human' | 'agent' | 'relay'

export interface PeerInfo {
  id: PeerId
  name: string
  kind: PeerKind
  /** Host name of the machine, for `status`; informational. */
  host?: string
}

/** A change to a document: a local edit (`origin` null) or an update applied from the peer `origin`. */
export type UpdateListener = (doc: DocName, update: Uint8Array, origin: PeerId | null) => void

export interface SyncHost {
  readonly spaceId: SpaceId
  readonly self: PeerInfo
  /** Every document this host holds (including those whose file was deleted: deletion is state too). */
  docNames(): Iterable<DocName>
  /** Yjs state vector of a document; an empty state vector for a document the host does not have. */
  stateVector(doc: DocName): Uint8Array
  /** The update a peer with `remoteStateVector` lacks, or null when it lacks nothing. */
  encodeDiff(doc: DocName, remoteStateVector: Uint8Array): Uint8Array | null
  /** Validates a document name that came off the wire (tracked globs, no `..`, no absolute paths). */
  acceptDoc(name: string): name is DocName
  /**
   * A name `acceptDoc` refused that is only outside what this host holds (well-formed, another peer's
   * globs may track it): the session skips its messages instead of closing. Optional: without it every
   * refused name closes the session (1002), except with a relay (`SyncIO.skipRefusedDocs`).
   */
  skipDoc?(name: string): boolean
  /**
   * Applies an update from a peer. Resolves once the update is durable (so the session may acknowledge it);
   * rejects when the update is malformed, which makes the session close with 1002 and apply nothing.
   */
  applyRemote(doc: DocName, update: Uint8Array, from: PeerId): Promise<void>
  /**
   * Subscribes to every change of any document: local edits (`origin` null) and updates applied from a peer
   * (`origin` that peer), so that the peer manager can forward them to every other peer (A–B–C topologies).
   */
  onUpdate(listener: UpdateListener): () => void
  /**
   * Told what a peer is known to hold for a document (its state vector from the handshake, or an ack).
   * The host uses it to tell `pending` from `synced` files. Optional.
   */
  noteRemoteState?(doc: DocName, peer: PeerId, stateVector: Uint8Array): void
}

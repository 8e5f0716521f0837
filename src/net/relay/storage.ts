/**
 * What a relay keeps durably, as a contract: its own identity, each space's registration (the space id's
 * Ed25519 public key — never a secret), and each space's CRDT state per document as a `DocStore` (the
 * same append-only, fsynced sidecar store peers use). `net` holds no file code: the implementations are
 * `fileRelayStorage` (under `ctxsync serve --data DIR`) and `memoryRelayStorage` (tests), in
 * `src/fs/relayStorage.ts`, passed in through `RelayServerOptions.storage`. Both run the shared suite
 * `test/net/relaystorage.contract.ts`.
 */
import type { DocStore } from '../../fs/StorageAdapterInterface.js'
import type { PeerId, SpaceId } from '../../ids.js'
import type { SpaceRecord } from './registration.js'

export type { SpaceRecord }

export type { DocStore }

export interface Registration {
  /** Raw 32-byte Ed25519 public key of the space (`spacePublicKey(secret, spaceId)`). */
  publicKey: Uint8Array
  /** ISO time of first contact. */
  registeredAt: string
}

export interface RelayStorage {
  /** The relay's own peer id and identity key seed, created on first use and kept across restarts. */
  identity(): Promise<{ id: PeerId; seed: Uint8Array }>
  /** The registration of a space, or null when it never contacted this relay. */
  registration(space: SpaceId): Promise<Registration | null>
  /** Records a registration durably (it survives kill -9 once this resolves). */
  register(space: SpaceId, reg: Registration): Promise<void>
  /** A fresh handle on the document store of a space (created on first write). */
  docs(space: SpaceId): DocStore
  /** Every registered space with what expiry needs (`registration.ts`). */
  spaces(): Promise<SpaceRecord[]>
  /** Records a visit: when, and whether the space has seen a second session. */
  touch(space: SpaceId, seen: { lastSeenAt: string; confirmed: boolean }): Promise<void>
  /** Removes a space entirely: registration and documents. */
  forget(space: SpaceId): Promise<void>
}

/**
 * RelaySpace: one space as a relay holds it — a `SyncHost` over plain in-memory Y.Docs backed by the
 * space's `DocStore`, plus the sessions of the space's peers, between which it relays every update.
 *
 * The relay knows nothing of the space's files or globs, so it accepts any document name that is a plain
 * relative path (no absolute path, no `.`/`..` segment, no backslash, no NUL or control character, no empty
 * segment, nothing under `.git`/`.ctxsync`/`node_modules`, which no peer tracks) and caps
 * how many documents a space may hold, so one writer cannot exhaust the relay.
 *
 * Every update is first checked by the injected guard (`DocGuard`, crdt/guard.ts): one that would take the
 * document outside the model's limits ends the session with 1008 and is neither applied, relayed nor
 * stored; a document whose stored state the guard refuses is held (not served), the others load.
 *
 * Durability: an update is applied to the document, relayed at once to the other peers, and appended to
 * the store; `applyRemote` resolves — and so the session acknowledges it — only once that append is
 * fsynced. Relaying before the fsync costs nothing in safety: until the sender has the Ack it keeps the
 * update as pending and offers it again (its next manifest exchange), and peers that got it keep it too.
 * If an append fails, memory would claim more than the disk holds, so the space fails as a whole: every
 * session closes with 1011 and the next connection loads it again from disk.
 *
 * The live peer list (the registry) is the set of persistent sessions; one-shot syncs and peeks are not
 * listed. Changes are announced (a Peers message) to every listed peer, debounced so a crowd connecting at
 * once costs one list each, not one per arrival.
 *
 * Presence: the relay keeps each live peer's latest Presence, passes it on to the space's other live peers
 * (with the name and kind the peer authenticated with, hops and `at` as they came), gives a newcomer
 * everyone's, and says `online: false` for a peer whose last session left. Only a member's own counts: what
 * a member passes on of others (peers do that between themselves) is dropped, since the relay hears
 * everyone's from themselves.
 */
import * as Y from 'yjs'
import type { DocName, PeerId, SpaceId } from '../../ids.js'
import { logger } from '../../debuglog.js'
import type { LivePeer, PresenceMessage } from '../protocol.js'
import { ProtocolError } from '../protocol.js'
import { forwardUpdate } from '../forward.js'
import { isWhole, WholeGate } from '../whole.js'
import type { PeerSession } from '../session.js'
import type { PeerInfo, SyncHost, UpdateListener } from '../SyncHost.js'
import { CloseCode } from '../TransportInterface.js'
import type { RelayMetrics } from './metrics.js'
import type { DocStore } from './storage.js'

const log = logger('relay:space')
const EMPTY_SV = Y.encodeStateVector(new Y.Doc())
const LOADING = Symbol('loading')
const PEERS_DEBOUNCE_MS = 100
const INTERNAL_ERROR = 1011


/** Directories no peer ever tracks (`src/fs/globs.ts` ALWAYS_IGNORED_DIRS; `net` does not import `fs`). */
const NEVER_TRACKED = new Set(['.git', 'node_modules', '.ctxsync'])

/**
 * A plain relative path that some peer's globs could track: what any ctxsync peer would send as a document
 * name. Everything no peer would accept is refused here too, so a hostile writer cannot park documents on
 * the relay that every honest peer then has to refuse.
 */
export function isSafeDocPath(name: string): boolean {
  if (name.length === 0 || name.length > 4096) return false
  if (name.startsWith('/') || name.includes('\\') || /[\u0000-\u001f\u007f]/.test(name) || /^[A-Za-z]:/.test(name)) return false
  return name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..' && !NEVER_TRACKED.has(seg))
}

export interface RelaySpaceOptions {
  spaceId: SpaceId
  self: PeerInfo
  store: DocStore
  maxDocs: number
  metrics: RelayMetrics
  /** Called once when the space can no longer be trusted (a failed append). */
  onFailure: (err: Error) => void
  /** Run after each transaction of a document (the serve command passes `crdt/compact.ts`). */
  afterTransaction?: (tr: Y.Transaction) => void
  /** Checks of what peers send and of what the store holds (the serve command passes `crdt/guard.ts`). */
  guard?: DocGuard
}

/**
 * What a document may hold is the model's business (`crdt`), which `net` does not import: the serve
 * command injects the checks. Each returns why a document or update is refused, or null.
 */
export interface DocGuard {
  /** An update about to be applied to `doc`: refused ones end the session with 1008 and are not stored. */
  checkUpdate(doc: Y.Doc, update: Uint8Array): string | null
  /** A document just loaded from the store: a refused one is held (not served, nothing applied to it). */
  checkState(doc: Y.Doc): string | null
}

interface Member {
  session: PeerSession
  since: number
  presence?: PresenceMessage
}

export class RelaySpace implements SyncHost {
  readonly spaceId: SpaceId
  readonly self: PeerInfo
  readonly #o: RelaySpaceOptions
  readonly #docs = new Map<DocName, Y.Doc>()
  /** The latest append of each document: awaiting it awaits every earlier one (the store keeps order). */
  readonly #writes = new Map<DocName, Promise<void>>()
  readonly #compacting = new Set<DocName>()
  readonly #listeners = new Set<UpdateListener>()
  /** Members' updates that left a document incomplete wait here before they are relayed (`net/whole.ts`). */
  readonly #gates = new Map<DocName, WholeGate<PeerId>>()
  readonly #members = new Map<PeerSession, Member>()
  /** Documents whose stored state the guard refused: held, so a bad state never spreads from here. */
  readonly #held = new Map<DocName, string>()
  #peersTimer: NodeJS.Timeout | undefined
  #failed: Error | null = null
  #closed = false

  private constructor(o: RelaySpaceOptions) {
    this.#o = o
    this.spaceId = o.spaceId
    this.self = o.self
  }

  /** Loads every document of the space from its store. */
  static async load(o: RelaySpaceOptions): Promise<RelaySpace> {
    const space = new RelaySpace(o)
    for (const name of await o.store.list()) {
      const loaded = await o.store.load(name)
      if (!loaded) continue
      const d = space.#create(name)
      Y.transact(d, () => {
        for (const u of loaded.updates) Y.applyUpdate(d, u, LOADING)
      }, LOADING)
      for (const w of loaded.warnings) log('%s %s: %s', o.spaceId, name, w)
      const bad = o.guard?.checkState(d)
      if (bad) {
        log('%s %s: holding the document, its stored state is damaged: %s', o.spaceId, name, bad)
        space.#docs.delete(name)
        d.destroy()
        space.#held.set(name, bad)
      }
    }
    log('%s: loaded %d document(s)', o.spaceId, space.#docs.size)
    return space
  }

  get failed(): boolean {
    return this.#failed !== null
  }

  get sessionCount(): number {
    return this.#members.size
  }

  // ── SyncHost ──

  docNames(): Iterable<DocName> {
    return [...this.#docs.keys()]
  }

  stateVector(doc: DocName): Uint8Array {
    const d = this.#docs.get(doc)
    return d ? Y.encodeStateVector(d) : EMPTY_SV
  }

  encodeDiff(doc: DocName, remoteStateVector: Uint8Array): Uint8Array | null {
    const d = this.#docs.get(doc)
    if (!d) return null
    const diff = Y.encodeStateAsUpdate(d, remoteStateVector)
    return diff.length === 2 && diff[0] === 0 && diff[1] === 0 ? null : diff
  }

  acceptDoc(name: string): name is DocName {
    return isSafeDocPath(name)
  }

  async applyRemote(doc: DocName, update: Uint8Array, from: PeerId): Promise<void> {
    if (this.#failed) throw new ProtocolError('the relay could not store this space; try again', INTERNAL_ERROR)
    // Held (its stored state is damaged): not served, and nothing is added to it. Refusing the name instead
    // would end every session of a peer that tracks it.
    if (this.#held.has(doc)) return
    const t0 = performance.now()
    try {
      Y.decodeUpdate(update)
    } catch {
      throw new Error('malformed update')
    }
    let d = this.#docs.get(doc)
    const refused = this.#o.guard?.checkUpdate(d ?? new Y.Doc(), update)
    if (refused) {
      this.#o.metrics.updatesRefused++
      throw new ProtocolError(`update for ${doc} refused: ${refused}`, CloseCode.Policy)
    }
    if (!d) {
      if (this.#docs.size >= this.#o.maxDocs) {
        throw new ProtocolError(`space holds the most documents this relay allows (${this.#o.maxDocs})`, CloseCode.Policy)
      }
      d = this.#create(doc)
    }
    this.#o.metrics.updatesTotal++
    Y.applyUpdate(d, update, from)
    this.#o.metrics.observeFanout((performance.now() - t0) / 1000)
    try {
      await this.#writes.get(doc)
    } catch (err) {
      throw new ProtocolError(`the relay could not store the update: ${(err as Error).message}`, INTERNAL_ERROR)
    }
  }

  onUpdate(listener: UpdateListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  // ── members ──

  attach(session: PeerSession): void {
    // Admitted just as the space was being unloaded: the peer reconnects (with backoff) to a fresh load.
    if (this.#closed) return session.close(CloseCode.GoingAway, 'space reloading: reconnect')
    if (!this.#bindId(session)) return
    this.#members.set(session, { session, since: Date.now() })
    if (session.remotePeek) {
      session.sendControl({ type: 'Peers', peers: this.livePeers(session.access === 'admin') })
      return
    }
    // A peer that reconnects while its old session lingers half-open: the newer one is the live one.
    if (!session.transient) {
      session.on('presence', (m) => this.#onPresence(session, m))
      for (const other of this.#members.values()) {
        if (other.presence && other.session !== session && other.presence.peer.id !== session.peer?.id) session.sendControl(other.presence)
      }
      for (const m of this.#members.values()) {
        if (m.session !== session && !m.session.transient && m.session.peer?.id === session.peer?.id) {
          m.session.close(CloseCode.Normal, 'replaced by a newer connection from the same peer')
        }
      }
      this.#announcePeers()
    }
  }

  /**
   * A peer id belongs to one credential at a time. Updates are relayed to every session but their origin's
   * id, so a session under someone else's id would silence that member (and be listed as it). A stronger
   * credential takes the id (the space key, then admin, write and read tokens), so a read token holder who
   * copied an id while its owner was away cannot lock the owner out; anyone else must use its own id.
   */
  #bindId(session: PeerSession): boolean {
    const id = session.peer?.id
    for (const m of this.#members.values()) {
      const other = m.session
      if (other === session || other.peer?.id !== id || other.credential === session.credential) continue
      if (rank(session.credential) > rank(other.credential)) {
        other.refuse(CloseCode.Forbidden, `peer id ${id} was taken by a session with a stronger credential`)
        continue
      }
      log('refused %s: peer id %s is in use under another credential', session.remote, id)
      session.refuse(CloseCode.Forbidden, `peer id ${id} is in use by another session with a different credential: every machine and agent needs its own id`)
      return false
    }
    return true
  }

  /**
   * How a session's peer is shown to the others (Peers, Presence): a token holder's name says so first, so that
   * nobody with a token passes for a member who proved the secret, whatever name it chose.
   */
  #shown(session: PeerSession): PeerInfo {
    const peer = session.peer!
    const c = session.credential
    if (!c || c === 'space-key') return peer
    const role = c.split(':')[1] ?? 'read'
    // The label comes first: a name padded with spaces cannot push it out of sight.
    return { ...peer, name: `(${role} token) ${peer.name}`.slice(0, 256) }
  }

  detach(session: PeerSession): void {
    const m = this.#members.get(session)
    if (!m) return
    this.#members.delete(session)
    if (session.transient) return
    this.#announcePeers()
    const peer = session.peer
    const stillHere = peer && [...this.#members.values()].some((o) => o.session.peer?.id === peer.id && !o.session.transient)
    if (m.presence && peer && !stillHere) {
      this.#forward(session, { type: 'Presence', peer: m.presence.peer, online: false, files: [], hops: 0, at: m.presence.at })
    }
  }

  #onPresence(session: PeerSession, m: PresenceMessage): void {
    const member = this.#members.get(session)
    if (!member || !session.peer || m.peer.id !== session.peer.id) return
    // The session checked that it is this peer's own; shown under the name and kind it authenticated with.
    const msg: PresenceMessage = { ...m, peer: this.#shown(session) }
    member.presence = msg.online ? msg : undefined
    this.#forward(session, msg)
  }

  #forward(from: PeerSession, msg: PresenceMessage): void {
    for (const { session } of this.#members.values()) {
      if (session !== from && !session.transient && session.peer?.id !== msg.peer.id) session.sendControl(msg)
    }
  }

  /** The persistent sessions, as the registry lists them. */
  livePeers(withAddresses: boolean): LivePeer[] {
    const out: LivePeer[] = []
    for (const { session, since } of this.#members.values()) {
      if (session.transient || !session.peer || !session.authenticated) continue
      const p: LivePeer = { ...this.#shown(session), since, access: session.access ?? 'read' }
      if (withAddresses) p.address = session.remote
      out.push(p)
    }
    return out.sort((a, b) => a.since - b.since || (a.id < b.id ? -1 : 1))
  }

  /** Closes every session, waits for every append, closes the store. */
  async close(code: number = CloseCode.GoingAway, reason = 'relay shutting down'): Promise<void> {
    this.#closed = true
    clearTimeout(this.#peersTimer)
    for (const s of this.#members.keys()) s.close(code, reason)
    await Promise.allSettled(this.#writes.values())
    await this.#o.store.close().catch((err: unknown) => log('%s: closing the store: %s', this.spaceId, (err as Error).message))
    for (const d of this.#docs.values()) d.destroy()
    for (const g of this.#gates.values()) g.close()
  }

  #create(name: DocName): Y.Doc {
    const d = new Y.Doc()
    const after = this.#o.afterTransaction
    if (after) d.on('afterTransaction', after)
    d.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin !== LOADING) this.#onDocUpdate(name, d, u, typeof origin === 'string' ? (origin as PeerId) : null)
    })
    this.#docs.set(name, d)
    return d
  }

  #onDocUpdate(doc: DocName, d: Y.Doc, u: Uint8Array, origin: PeerId | null): void {
    const store = this.#o.store
    const write = store.append(doc, u).then(async () => {
      if (!store.shouldCompact(doc) || this.#compacting.has(doc)) return
      this.#compacting.add(doc)
      try {
        await store.compact(doc, Y.encodeStateAsUpdate(d), {})
      } finally {
        this.#compacting.delete(doc)
      }
    })
    write.catch((err: unknown) => this.#fail(err as Error))
    this.#writes.set(doc, write)
    let gate = this.#gates.get(doc)
    if (!gate) this.#gates.set(doc, (gate = new WholeGate<PeerId>((update, from) => this.#relay(doc, update, from))))
    gate.push(u, origin, isWhole(d), origin !== null)
  }

  #relay(doc: DocName, u: Uint8Array, origin: PeerId | null): void {
    if (this.#closed) return
    for (const l of this.#listeners) l(doc, u, origin)
    const members = [...this.#members.values()].map((m) => m.session)
    this.#o.metrics.relayedTotal += forwardUpdate(members, doc, u, origin, (s) => !s.remotePeek)
  }

  #fail(err: Error): void {
    if (this.#failed) return
    this.#failed = err
    log('%s: storage failed: %s', this.spaceId, err.message)
    for (const s of this.#members.keys()) s.close(INTERNAL_ERROR, 'the relay could not store this space')
    this.#o.onFailure(err)
  }

  #announcePeers(): void {
    if (this.#peersTimer) return
    this.#peersTimer = setTimeout(() => {
      this.#peersTimer = undefined
      let plain: LivePeer[] | undefined
      let full: LivePeer[] | undefined
      for (const { session } of this.#members.values()) {
        if (session.transient) continue
        const admin = session.access === 'admin'
        const peers = admin ? (full ??= this.livePeers(true)) : (plain ??= this.livePeers(false))
        session.sendControl({ type: 'Peers', peers })
      }
    }, PEERS_DEBOUNCE_MS)
    this.#peersTimer.unref()
  }
}

const RANKS: Record<string, number> = { 'space-key': 4, admin: 3, write: 2, read: 1 }
/** How strong a credential is (`space-key`, `token:<role>:<jti>`). */
const rank = (credential: string | undefined): number =>
  credential === 'space-key' ? RANKS['space-key']! : (RANKS[credential?.split(':')[1] ?? ''] ?? 0)

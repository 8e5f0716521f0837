/**
 * What `ctxsync status` reports, computed live from an open space, and persisted in `.ctxsync/status.json`
 * (with the known peers in `.ctxsync/peers.json`) so that `status` without a daemon answers from the last
 * known state in milliseconds instead of loading every CRDT. A running daemon also saves who is online and
 * what they touch (presence), so that answer does not need the daemon either.
 */
import fs from 'node:fs/promises'
import { writeFileAtomic } from '../fs/atomic.js'
import type { PeerKind } from '../net/SyncHost.js'
import type { SummarySource } from './context.js'
import { awaitingJoin } from './join.js'

/** `failing`: the file or its sync state could not be read or written lately (retried; `error` says why). */
export type FileStateName = 'synced' | 'pending' | 'held' | 'refused' | 'conflicted' | 'failing'

export interface FileStatus {
  path: string
  state: FileStateName
  error?: { line: number; col: number; message: string }
  conflicts?: number
  /** The last whole-file rewrite by a YAML library taken in as its data changes, formatting kept. */
  formatKept?: { at: string; message: string }
  /**
   * The last save here taken in with a notice (a stale save, an exact older text undoing peers' values), until
   * the file's next ordinary save or an undo: the daemon's log said it, where a person does not look.
   */
  lastSave?: { at: string; message: string }
  /**
   * Without a daemon: the file was edited (or deleted) here since the daemon last took it in, so nothing of
   * that change is in the sync state yet (a `pending` file may hold only changes no peer acknowledged).
   */
  notTakenIn?: 'edited' | 'deleted'
}

export interface PeerRecord {
  id: string
  name: string
  kind: PeerKind
  host?: string
  url?: string
  connected: boolean
  lastSeen: string | null
}

/** A peer online now (its presence), as `status` shows it. */
export interface OnlinePeer {
  id: string
  name: string
  kind: PeerKind
  host?: string
  /** Heard of from the peer itself, through a relay, or passed on by another peer. */
  via: 'direct' | 'relay' | 'peer'
  /** ISO time since when it is known to be online. */
  since: string
  /** Files it changed in the last minutes, newest first (ISO times). */
  files: Array<{ path: string; at: string }>
}

/** Per-file facts saved for cold `status`. */
export interface SavedFile extends FileStatus {
  /** Hash of the file as last synced: a different hash on disk means local changes not yet taken in. */
  baseHash: string | null
  /** Base64 state vector of the document (for sync points recorded without a daemon). */
  sv?: string
}

export interface SavedSummary {
  version: 1
  updatedAt: string
  files: SavedFile[]
  conflicts: number
  /** Presence known to the daemon when it wrote this (absent when no daemon wrote it). */
  online?: OnlinePeer[]
}

/** Each file's last save notice (`FileStatus.lastSave`), set by the daemon (`daemon.ts`); not persisted. */
export const saveNotices = new WeakMap<object, { at: string; message: string }>()

/** A save said with a notice, or (null) an ordinary save or an undo, which ends the last one. */
export function noticeSave(file: object, message: string | null): void {
  if (message === null) saveNotices.delete(file)
  else saveNotices.set(file, { at: new Date().toISOString(), message })
}

export function liveFiles(space: Pick<SummarySource, 'docs'>): SavedFile[] {
  const out: SavedFile[] = []
  for (const e of space.docs()) {
    const exists = e.model.exists()
    let state: FileStateName
    let conflicts = 0
    const failure = e.storeError ? `sync state not saved: ${e.storeError}` : e.ioError ? `file not read or written: ${e.ioError}` : null
    // A file waiting for the live state to join (join.ts) holds the member's text, not yet taken in.
    const joining = awaitingJoin(e.file) !== undefined
    if (!exists && e.state === 'ok' && !e.pending && !failure && !joining) continue
    if (failure) state = 'failing'
    else if ((e.state === 'held' && !e.problem?.transient) || e.state === 'unreadable') state = 'held'
    else if (e.state === 'refused') state = 'refused'
    else if (exists && (conflicts = e.model.conflicts().length) > 0) state = 'conflicted'
    else if (e.pending || joining || e.state === 'held') state = 'pending'
    else state = 'synced'
    // No state synced yet for a joining file: its text is not a synced one (nor is its sidecar missing).
    const f: SavedFile = { path: e.name, state, baseHash: joining ? null : e.diskHash ?? null }
    if (exists) f.sv = Buffer.from(e.model.stateVector()).toString('base64')
    if (e.problem && (state === 'held' || state === 'refused')) f.error = { ...e.problem }
    if (failure) f.error = { line: 1, col: 1, message: `${failure} (retrying)` }
    if (conflicts) f.conflicts = conflicts
    if (e.file.formatKept) f.formatKept = { ...e.file.formatKept }
    const notice = saveNotices.get(e.file)
    if (notice) f.lastSave = { ...notice }
    out.push(f)
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1))
}

export function toSummary(files: SavedFile[], online?: OnlinePeer[]): SavedSummary {
  return {
    version: 1,
    updatedAt: new Date().toISOString(),
    files,
    conflicts: files.reduce((n, f) => n + (f.conflicts ?? 0), 0),
    ...(online ? { online } : {}),
  }
}

export async function readSummary(file: string): Promise<SavedSummary | null> {
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as SavedSummary
    return v.version === 1 && Array.isArray(v.files) ? v : null
  } catch {
    return null
  }
}

/** Keeps `status.json` current while a space is open (debounced; flushed on close). */
export class SummaryWriter {
  private timer: NodeJS.Timeout | null = null
  private writing: Promise<void> = Promise.resolve()

  /** `online`: the daemon's presence list; without it (init, one-shot runs) nothing is said of presence. */
  constructor(
    private readonly space: SummarySource,
    private readonly online?: () => OnlinePeer[],
  ) {
    space.on('summary', () => this.schedule())
  }

  private lastWrite = 0

  /**
   * 150 ms after a change, but at most once a second: under a steady stream of edits, recomputing every
   * file's state and rewriting the file several times a second was a tenth of a busy daemon's allocations.
   */
  private schedule(): void {
    if (this.timer) return
    const delay = Math.max(150, this.lastWrite + 1000 - Date.now())
    this.timer = setTimeout(() => {
      this.timer = null
      void this.flush()
    }, delay)
    this.timer.unref?.()
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.lastWrite = Date.now()
    const summary = toSummary(liveFiles(this.space), this.online?.())
    this.writing = this.writing
      .then(() => writeFileAtomic(this.space.paths.summary, JSON.stringify(summary, null, 1) + '\n'))
      .then(() => undefined)
      .catch(() => undefined)
    return this.writing
  }
}

/** Peers this machine has met, with when it last heard from each. */
export const FORGET_AFTER_MS = 30 * 86_400_000

const byName = (a: PeerRecord, b: PeerRecord) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1)

export class PeerBook {
  private peers = new Map<string, PeerRecord>()
  /** Left out by `load` for their age, still in the file until the next save: `prune` names them too. */
  private expired: PeerRecord[] = []
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly file: string) {}

  async load(now = Date.now()): Promise<this> {
    try {
      const v = JSON.parse(await fs.readFile(this.file, 'utf8')) as { peers?: PeerRecord[] }
      // A peer not seen for FORGET_AFTER_MS leaves the book: every one-shot clone (CI runs) stayed in it for
      // good (issue 17). One that comes back is simply met again.
      for (const p of v.peers ?? []) {
        if (p.lastSeen && now - Date.parse(p.lastSeen) > FORGET_AFTER_MS) this.expired.push({ ...p, connected: false })
        else this.peers.set(p.id, { ...p, connected: false })
      }
    } catch {
      // no book yet
    }
    return this
  }

  list(): PeerRecord[] {
    return [...this.peers.values()].sort(byName)
  }

  /**
   * The book as `peers` shows it: `connected` (peer ids) marks who is connected now, and a connected peer
   * was last seen now — the book keeps the time of its connection, which `peers --json` gave as `lastSeen`
   * while the peer was active (16:25 for a peer connected since 16:41, issue 17 tester).
   */
  view(connected: ReadonlySet<string>, now = Date.now()): PeerRecord[] {
    const at = new Date(now).toISOString()
    return this.list().map((r) => (connected.has(r.id) ? { ...r, connected: true, lastSeen: at } : { ...r, connected: false }))
  }

  seen(p: Omit<PeerRecord, 'lastSeen'> & { lastSeen?: string | null }): void {
    const prev = this.peers.get(p.id)
    // Fields a sighting does not know (an inbound session has no URL) keep what was known before.
    const known = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as typeof p
    this.peers.set(p.id, { ...prev, ...known, lastSeen: p.lastSeen ?? new Date().toISOString() })
    this.schedule()
  }

  disconnected(id: string): void {
    const p = this.peers.get(id)
    if (!p) return
    p.connected = false
    p.lastSeen = new Date().toISOString()
    this.schedule()
  }

  /**
   * `ctxsync peers --prune`: forgets the peers not seen for `olderThanMs` or more — never one connected now
   * (`connected`: their ids), nor one never dated (the automatic forgetting keeps those too) — and returns
   * them, with any `load` left out for age that the file still holds, so the caller can say what left.
   * The caller saves.
   */
  prune(olderThanMs: number, connected: ReadonlySet<string>, now = Date.now()): PeerRecord[] {
    const gone = this.expired.filter((p) => !this.peers.has(p.id))
    this.expired = []
    for (const p of this.list()) {
      if (connected.has(p.id) || !p.lastSeen || now - Date.parse(p.lastSeen) < olderThanMs) continue
      this.peers.delete(p.id)
      gone.push({ ...p, connected: false })
    }
    return gone.sort(byName)
  }

  private schedule(): void {
    if (this.timer) return
    this.timer = setTimeout(() => void this.save(), 200)
    this.timer.unref?.()
  }

  async save(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const peers = this.list().map((p) => ({ ...p, connected: false }))
    this.expired = []
    await writeFileAtomic(this.file, JSON.stringify({ peers }, null, 1) + '\n').catch(() => undefined)
  }
}

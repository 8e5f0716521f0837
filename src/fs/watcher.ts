/**
 * Watcher: turns file-system noise under a repository into one event per settled change of a tracked file.
 *
 * chokidar (v4, no globs) watches the root; `.git`, `node_modules` and `.ctxsync` are ignored by name so they
 * are never traversed, and untracked files are ignored once chokidar has their stats. chokidar is lossy by
 * design: it drops a path's `change` events for 50 ms after emitting one and has no trailing event, so a
 * write that follows ours within that window would vanish. Every chokidar event therefore also arms a
 * *tail check* just after the window; checks are cheap when nothing changed (one lstat).
 *
 * A check lstats the file, reads it, and lstats it again: if the file moved during the read (partial write,
 * replaced by a rename) it is read again after `stableMs`. A vanished file is reported `deleted` only if it
 * is still gone `deleteGraceMs` later, which absorbs editors' delete-and-recreate and rename-over saves.
 *
 * Repeats are suppressed by stat signature (inode, size, mtime, ctime) and, for recently modified files
 * whose timestamps may be too coarse to tell two writes apart, also by content hash. A rewrite with new
 * timestamps or a new inode is reported even when the content equals the last event: the caller's own
 * write may lie in between, and only the caller (comparing hashes) can decide what is an echo.
 *
 * A check that fails (no descriptors left, EIO, a directory made unreadable) is reported as `failed` for
 * that path and tried again with backoff (0.1 s doubling to 30 s) until it succeeds: an edit made while
 * the process could not read is never silently dropped. `recheck` asks for a path to be read and
 * reported again even if it looks unchanged (its last report could not be taken in).
 */
import { EventEmitter } from 'node:events'
import type { Stats } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { watch, type FSWatcher } from 'chokidar'
import { logger } from '../debuglog.js'
import { isGone, maxFileBytes, readChecked, type UnreadableReason } from './atomic.js'
import { DirWatches } from './dirwatch.js'
import { createMatcher, forEachLimited, hasIgnoredSegment, isTrackedFile, listTracked, toRelPosix, type Matcher } from './globs.js'

const log = logger('fs:watcher')
/** Just past chokidar's 50 ms change throttle. */
const TAIL_MS = 60
/** Timestamps younger than this may not distinguish two writes (coarse clocks, 1-2 s on some file systems). */
const COARSE_MS = 2500

export interface WatcherConfig {
  root: string
  include: readonly string[]
  exclude?: readonly string[]
  /** Quiet time that coalesces a burst of events on one path (default 2 ms). */
  debounceMs?: number
  /** Longest a path's check is postponed by a continuous burst (default 100 ms). */
  maxWaitMs?: number
  /** Delay before reading again a file that changed while it was read (default 20 ms). */
  stableMs?: number
  /** How long a file must stay gone before `deleted` (default 150 ms). */
  deleteGraceMs?: number
  maxBytes?: number
}

export interface FileEvent { path: string; text: string; hash: string; size: number; mtimeMs: number }
export interface UnreadableEvent { path: string; reason: Exclude<UnreadableReason, 'not-a-file'> }
export interface DeletedEvent { path: string }
export interface FailedEvent { path: string; error: Error }
export interface WatcherEvents {
  file: [FileEvent]
  failed: [FailedEvent]
  unreadable: [UnreadableEvent]
  deleted: [DeletedEvent]
  error: [Error]
}

/**
 * What the daemon needs of a watcher, so that it can be given another (a test's, an embedder's): the events
 * above, `ready` once the first scan is done, `recheck` to report a path again, and `pause`/`resume`
 * around git rewriting files (`space/gitwatch.ts`). `Watcher` below is the chokidar one.
 */
export interface FileWatcher {
  on<K extends keyof WatcherEvents>(event: K, listener: (...args: WatcherEvents[K]) => void): unknown
  ready(): Promise<void>
  recheck(rel: string, delayMs?: number): void
  pause(): void
  resume(): Promise<void>
  close(): Promise<void>
}

interface Sig { dev: number; ino: number; size: number; mtimeMs: number; ctimeMs: number; hash?: string; reason?: string }
interface PathState { timer?: NodeJS.Timeout; firstAt?: number; tail?: NodeJS.Timeout; grace?: NodeJS.Timeout; running: boolean; again: boolean; failures?: number }

export class Watcher extends EventEmitter<WatcherEvents> implements FileWatcher {
  private readonly root: string
  private readonly include: readonly string[]
  private readonly exclude: readonly string[]
  private readonly match: Matcher
  private readonly debounceMs: number
  private readonly maxWaitMs: number
  private readonly stableMs: number
  private readonly deleteGraceMs: number
  private readonly maxBytes: number
  private readonly fsw: FSWatcher
  private readonly known = new Map<string, Sig>()
  private readonly states = new Map<string, PathState>()
  private readonly readyP: Promise<void>
  private paused = false
  /** Paths chokidar told of while paused: its 50 ms throttle may run past `resume` (see `resume`). */
  private readonly heardPaused = new Set<string>()
  /** Directory watches beside chokidar's per-inode file watches, which a quick replacement can leave dead (dirwatch.ts). */
  private readonly dirs = new DirWatches((abs) => this.onFsEvent(abs))
  private closed = false

  constructor(cfg: WatcherConfig) {
    super()
    this.root = path.resolve(cfg.root)
    this.include = cfg.include
    this.exclude = cfg.exclude ?? []
    this.match = createMatcher(this.include, this.exclude)
    this.debounceMs = cfg.debounceMs ?? 2
    this.maxWaitMs = cfg.maxWaitMs ?? 100
    this.stableMs = cfg.stableMs ?? 20
    this.deleteGraceMs = cfg.deleteGraceMs ?? 150
    this.maxBytes = cfg.maxBytes ?? maxFileBytes()
    this.fsw = watch(this.root, { ignoreInitial: true, followSymlinks: false, ignored: (p, st) => this.ignored(p, st) })
    for (const ev of ['add', 'change', 'unlink'] as const) this.fsw.on(ev, (p) => (log('%s %s%s', ev, p, this.paused ? ' (paused)' : ''), this.onFsEvent(p)))
    this.fsw.on('addDir', (p) => this.onDirAdded(p))
    this.fsw.on('unlinkDir', (p) => this.onDirRemoved(p))
    this.fsw.on('error', (e) => this.fail(e as Error))
    this.readyP = new Promise<void>((resolve) => this.fsw.once('ready', resolve)).then(() => this.seed())
    this.readyP.catch((e: unknown) => this.fail(e as Error)) // still rejects for callers of ready()
  }

  /** Resolves once the initial scan is done; changes after that are reported. */
  ready(): Promise<void> {
    return this.readyP
  }

  async close(): Promise<void> {
    this.closed = true
    this.clearTimers()
    this.dirs.close()
    await this.fsw.close()
  }

  /** Stops reporting (e.g. while git rewrites files); `resume` then re-checks everything. */
  pause(): void {
    this.paused = true
    this.clearTimers()
  }

  /** Emits `file` for every tracked file (changed or not) and `deleted` for known files that vanished. */
  async resume(): Promise<void> {
    this.paused = false
    log('resume')
    const { files, symlinks } = await listTracked(this.root, this.include, this.exclude)
    const present = new Set([...files, ...symlinks])
    await this.dirs.refresh(files.map((rel) => this.abs(rel)))
    // An event chokidar emitted while paused armed no tail check, yet it started chokidar's throttle: a save
    // landing in what is left of it after the re-check below was never reported (a save made at once after
    // `git checkout -- FILE`). Those paths get their tail check now, after the throttle.
    for (const rel of this.heardPaused) this.armTail(rel)
    this.heardPaused.clear()
    for (const rel of symlinks) this.report(rel, await this.lstat(rel), { kind: 'unreadable', reason: 'symlink' })
    await forEachLimited(files, 16, (rel) => this.readAndReport(rel, true))
    for (const rel of [...this.known.keys()]) {
      if (present.has(rel)) continue
      if ((await this.lstat(rel)) === null) this.reportDeleted(rel)
      else this.schedule(rel, 0)
    }
  }

  private ignored(abs: string, st?: Stats): boolean {
    const rel = toRelPosix(this.root, abs)
    if (rel === '' || rel === '..' || rel.startsWith('../')) return false
    if (hasIgnoredSegment(rel)) return true
    // Without stats chokidar may be asking about a directory, which must stay watched.
    return st !== undefined && !st.isDirectory() && !this.match(rel)
  }

  private onFsEvent(abs: string): void {
    const rel = toRelPosix(this.root, abs)
    if (this.closed || !this.match(rel)) return
    if (this.paused) return void this.heardPaused.add(rel)
    this.schedule(rel)
    this.armTail(rel)
  }

  private armTail(rel: string): void {
    const s = this.state(rel)
    clearTimeout(s.tail)
    s.tail = setTimeout(() => { s.tail = undefined; this.schedule(rel, 0) }, TAIL_MS)
  }

  /** A new `.rhema/` directory can make scope files beside it tracked. */
  private onDirAdded(abs: string): void {
    if (this.closed || this.paused || path.basename(abs) !== '.rhema') return
    const dir = toRelPosix(this.root, path.dirname(abs))
    for (const n of ['rhema.yaml', 'rhema.yml', 'scope.yaml', 'scope.yml']) {
      const rel = dir === '' ? n : `${dir}/${n}`
      if (this.match(rel)) this.schedule(rel)
    }
  }

  private onDirRemoved(abs: string): void {
    if (this.closed || this.paused) return
    const prefix = toRelPosix(this.root, abs) + '/'
    for (const rel of this.known.keys()) if (rel.startsWith(prefix)) this.schedule(rel)
  }

  private schedule(rel: string, delay = this.debounceMs): void {
    if (this.closed || this.paused) return
    const s = this.state(rel)
    if (s.running) {
      s.again = true
      return
    }
    const now = Date.now()
    if (s.timer) clearTimeout(s.timer)
    else s.firstAt = now
    const wait = now - (s.firstAt ?? now) >= this.maxWaitMs ? 0 : delay
    s.timer = setTimeout(() => void this.run(rel), wait)
  }

  private async run(rel: string): Promise<void> {
    const s = this.state(rel)
    s.timer = undefined
    s.firstAt = undefined
    s.running = true
    s.again = false
    let retry = false
    let failed = false
    try {
      retry = await this.check(rel)
      s.failures = 0
    } catch (e) {
      failed = true
      s.failures = (s.failures ?? 0) + 1
      log('checking %s failed (%d): %s', rel, s.failures, (e as Error).message)
      if (this.listenerCount('failed') > 0) this.emit('failed', { path: rel, error: e as Error })
    } finally {
      s.running = false
    }
    if (s.again) this.schedule(rel)
    else if (failed) this.schedule(rel, Math.min(30_000, 100 * 2 ** Math.min((s.failures ?? 1) - 1, 9)))
    else if (retry) this.schedule(rel, this.stableMs)
    else this.forgetIdle(rel)
  }

  /** Reads `rel` again after `delayMs` and reports it even if it looks unchanged. */
  recheck(rel: string, delayMs = 0): void {
    const prev = this.known.get(rel)
    if (prev) this.known.set(rel, { ...prev, ino: -1, hash: undefined })
    this.schedule(rel, delayMs)
  }

  private forgetIdle(rel: string): void {
    const s = this.states.get(rel)
    if (s && !s.running && !s.timer && !s.tail && !s.grace) this.states.delete(rel)
  }

  /** Returns true when the file was moving under us and must be read again. */
  private async check(rel: string): Promise<boolean> {
    if (this.closed || this.paused) return false
    const st = await this.lstat(rel)
    const s = this.state(rel)
    if (st === null) {
      if (this.known.has(rel) && !s.grace) {
        s.grace = setTimeout(() => void this.confirmDeleted(rel).catch((e: unknown) => this.fail(e as Error)), this.deleteGraceMs)
      }
      return false
    }
    clearTimeout(s.grace)
    s.grace = undefined
    if (st.isDirectory()) return false
    const prev = this.known.get(rel)
    if (prev && sameSig(prev, st) && (prev.reason !== undefined || Date.now() - st.mtimeMs > COARSE_MS)) return false
    return this.readAndReport(rel, false, st)
  }

  private async readAndReport(rel: string, always: boolean, st?: Stats | null): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      st ??= await this.lstat(rel)
      if (st === null || this.closed || this.paused) return false
      // Scope-file rule and nested repositories (globs.ts): the file system decides.
      if (!(await isTrackedFile(this.root, rel, this.match))) return false
      const r = await readChecked(path.join(this.root, ...rel.split('/')), st, this.maxBytes)
      if (this.closed || this.paused) return false
      // A writer that truncates, then writes (most do), can be caught in between: an empty file is read
      // again once before it is reported, which spares most such saves a brief hold. The guard against
      // taking a mid-save emptiness in is space/cuthold.ts (CUT_SETTLE_MS), for every way a file is read.
      if (r !== 'changed' && r.kind === 'text' && r.text.trim() === '' && attempt === 0 && !always) {
        await new Promise((resolve) => setTimeout(resolve, this.stableMs))
        st = null
        continue
      }
      if (r !== 'changed') {
        const prev = this.known.get(rel)
        const dup = !always && r.kind === 'text' && prev !== undefined && sameSig(prev, st) && prev.hash === r.hash
        if (!dup) this.report(rel, st, r)
        return false
      }
      if (!always) return true
      if (attempt >= 5) return false // resume: leave a still-moving file to its own events
      await new Promise((resolve) => setTimeout(resolve, this.stableMs))
      st = null
    }
  }

  private report(rel: string, st: Stats | null, r: Awaited<ReturnType<typeof readChecked>>): void {
    if (r === 'changed' || r.kind === 'missing') return
    if (r.kind === 'unreadable') {
      if (r.reason === 'not-a-file') return
      this.known.set(rel, { ...sigOf(st), reason: r.reason })
      this.emit('unreadable', { path: rel, reason: r.reason })
      return
    }
    this.known.set(rel, { ...sigOf(st), hash: r.hash })
    void this.dirs.ensure(path.dirname(this.abs(rel)))
    this.emit('file', { path: rel, text: r.text, hash: r.hash, size: r.size, mtimeMs: r.mtimeMs })
  }

  private async confirmDeleted(rel: string): Promise<void> {
    const s = this.state(rel)
    s.grace = undefined
    if (this.closed || this.paused) return
    if ((await this.lstat(rel)) === null) this.reportDeleted(rel)
    else this.schedule(rel, 0)
    this.forgetIdle(rel)
  }

  private reportDeleted(rel: string): void {
    if (!this.known.delete(rel)) return
    this.emit('deleted', { path: rel })
  }

  /** Remembers what exists at start so that a later disappearance can be reported. */
  private async seed(): Promise<void> {
    const { files, symlinks } = await listTracked(this.root, this.include, this.exclude)
    await forEachLimited([...files, ...symlinks], 32, async (rel) => {
      const st = await this.lstat(rel)
      if (st && !this.known.has(rel)) this.known.set(rel, { ...sigOf(st), ...(st.isSymbolicLink() ? { reason: 'symlink' } : {}) })
    })
    await this.dirs.refresh([...this.known.keys()].map((rel) => this.abs(rel)))
    log('watching %s: %d tracked files', this.root, this.known.size)
  }

  private abs(rel: string): string {
    return path.join(this.root, ...rel.split('/'))
  }

  private async lstat(rel: string): Promise<Stats | null> {
    try {
      return await fs.lstat(this.abs(rel))
    } catch (e) {
      if (isGone(e)) return null
      throw e
    }
  }

  private state(rel: string): PathState {
    let s = this.states.get(rel)
    if (!s) this.states.set(rel, (s = { running: false, again: false }))
    return s
  }

  private clearTimers(): void {
    for (const s of this.states.values()) {
      clearTimeout(s.timer)
      clearTimeout(s.tail)
      clearTimeout(s.grace)
      s.timer = s.tail = s.grace = undefined
      s.firstAt = undefined
    }
  }

  private fail(e: Error): void {
    log('error: %s', e.message)
    if (this.listenerCount('error') > 0) this.emit('error', e)
  }
}

function sigOf(st: Stats | null): Sig {
  return st ? { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs } : { dev: -1, ino: -1, size: -1, mtimeMs: -1, ctimeMs: -1 }
}

function sameSig(a: Sig, st: Stats): boolean {
  return a.ino === st.ino && a.dev === st.dev && a.size === st.size && a.mtimeMs === st.mtimeMs && a.ctimeMs === st.ctimeMs
}

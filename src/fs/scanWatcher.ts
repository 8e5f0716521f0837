/**
 * A watcher that does not listen to the operating system: it reports what changed among the tracked files
 * when told to look (`scan()`), comparing each file's hash with what it last reported. The other
 * `FileWatcher` (the chokidar `Watcher`, `watcher.ts`) reports on its own, debounced, when the OS says a
 * file changed.
 *
 * Why: tests of the daemon in process want file events exactly when they ask for them (no timers, no
 * inotify latency, deterministic order), and an embedder on a file system without change notification can
 * poll with it. Both run the contract suite `test/fs/watcher.contract.ts`.
 */
import { EventEmitter } from 'node:events'
import path from 'node:path'
import { readTextFile } from './atomic.js'
import { listTracked } from './globs.js'
import type { FileWatcher, WatcherConfig, WatcherEvents } from './watcher.js'

export class ScanWatcher extends EventEmitter<WatcherEvents> implements FileWatcher {
  /** What was last reported per path: a hash, or the unreadable reason. */
  readonly #reported = new Map<string, string>()
  readonly #again = new Set<string>()
  #paused = false
  #closed = false
  #scanning: Promise<void> = Promise.resolve()

  constructor(private readonly cfg: Pick<WatcherConfig, 'root' | 'include' | 'exclude' | 'maxBytes'>) {
    super()
  }

  /** What the files hold now is what the caller already has (the daemon scans at start): no events for it. */
  async ready(): Promise<void> {
    await this.look(false)
  }

  /** Reports every tracked file that changed since the last report (and every path asked for again). */
  scan(): Promise<void> {
    this.#scanning = this.#scanning.then(() => (this.#paused || this.#closed ? undefined : this.look(true)))
    return this.#scanning
  }

  recheck(rel: string): void {
    this.#again.add(rel)
  }

  pause(): void {
    this.#paused = true
  }

  /** Like the OS watcher, what changed while paused is reported on resuming. */
  async resume(): Promise<void> {
    this.#paused = false
    await this.scan()
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#scanning
  }

  private async look(emit: boolean): Promise<void> {
    const root = path.resolve(this.cfg.root)
    const listing = await listTracked(root, this.cfg.include, this.cfg.exclude)
    const seen = new Set<string>()
    for (const rel of [...listing.files, ...listing.symlinks]) {
      seen.add(rel)
      const r = await readTextFile(path.join(root, rel), { within: root, ...(this.cfg.maxBytes ? { maxBytes: this.cfg.maxBytes } : {}) }).catch((error: Error) => ({ kind: 'failed' as const, error }))
      const again = this.#again.delete(rel)
      if (r.kind === 'missing') continue
      if (r.kind === 'failed') {
        if (emit) this.emit('failed', { path: rel, error: r.error })
        continue
      }
      const key = r.kind === 'text' ? r.hash : `unreadable:${r.reason}`
      if (this.#reported.get(rel) === key && !again) continue
      this.#reported.set(rel, key)
      if (!emit || this.#closed) continue
      if (r.kind === 'text') this.emit('file', { path: rel, text: r.text, hash: r.hash, size: r.size, mtimeMs: r.mtimeMs })
      else if (r.reason !== 'not-a-file') this.emit('unreadable', { path: rel, reason: r.reason })
    }
    for (const rel of [...this.#reported.keys()]) {
      if (seen.has(rel)) continue
      this.#reported.delete(rel)
      if (emit && !this.#closed) this.emit('deleted', { path: rel })
    }
  }
}

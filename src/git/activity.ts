/**
 * Tells when git is rewriting the work tree, so that the daemon does not mistake git's writes for edits.
 *
 * Git announces its work in its own directory: `index.lock` while it updates the index and the files
 * (checkout, merge, reset, stash, commit, and also `status` refreshing the index), `MERGE_HEAD`,
 * `CHERRY_PICK_HEAD`, `REVERT_HEAD`, `rebase-merge/`, `rebase-apply/` and `sequencer/` for as long as a
 * multi-step operation is under way. One non-recursive `fs.watch` on the git directory sees them appear and
 * go; `busy` fires at once, `idle` only after a quiet period, because one user command is often several
 * git steps (`pull --autostash` = stash + merge + stash apply) and a reconcile between two of them would
 * see a half-done state. While busy, a slow poll covers events the platform may coalesce or drop.
 */
import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import { logger } from '../debuglog.js'

const log = logger('git:activity')

/**
 * `MERGE_AUTOSTASH`: a merge (or a pull, --rebase too when it fast-forwards) holds the stash it will apply
 * after its post-merge hook; a hook's poke must not end the wait before that apply, nor may a write land
 * between the fast-forward and the apply (it would conflict with the stash: "Applying autostash resulted in
 * conflicts").
 */
export const GIT_BUSY_MARKERS = ['index.lock', 'HEAD.lock', 'MERGE_AUTOSTASH', 'MERGE_HEAD', 'CHERRY_PICK_HEAD', 'REVERT_HEAD', 'rebase-merge', 'rebase-apply', 'sequencer'] as const

/** Which markers exist in `gitDir` now. */
export function gitBusyMarkers(gitDir: string): string[] {
  return GIT_BUSY_MARKERS.filter((m) => fs.existsSync(path.join(gitDir, m)))
}

export interface GitActivityEvents {
  busy: [markers: string[]]
  idle: []
  error: [Error]
}

export interface GitActivityOptions {
  gitDir: string
  /** Quiet time after the last marker went away before `idle` (default 250 ms). */
  quietMs?: number
  pollMs?: number
}

export class GitActivity extends EventEmitter<GitActivityEvents> {
  private watcher: fs.FSWatcher | null = null
  private quiet: NodeJS.Timeout | null = null
  private poll: NodeJS.Timeout | null = null
  private state: 'idle' | 'busy' | 'settling' = 'idle'
  private readonly quietMs: number
  private readonly pollMs: number
  /** When this watch last looked at git's directory (ms): a change in it since is one it has not heard of yet. */
  heardAt = 0

  constructor(private readonly o: GitActivityOptions) {
    super()
    this.quietMs = o.quietMs ?? 250
    this.pollMs = o.pollMs ?? 100
  }

  start(): void {
    try {
      this.watcher = fs.watch(this.o.gitDir, { persistent: false }, (_ev, name) => this.check(typeof name === 'string' ? name : null))
      this.watcher.on('error', (e) => this.emit('error', e))
    } catch (e) {
      this.emit('error', e as Error)
    }
    this.check()
  }

  /** True from the moment git started until `idle` was emitted. */
  get busy(): boolean {
    return this.state !== 'idle'
  }

  /** A git hook says an operation finished: skip the rest of the quiet period if no marker remains. */
  poke(): void {
    if (this.state === 'idle' || gitBusyMarkers(this.o.gitDir).length > 0) return
    this.settle(0)
  }

  /**
   * `name`: the entry an event was about. A fast operation (a fast-forward pull) creates and removes
   * `index.lock` before this check can look, so an event naming a marker is evidence enough.
   */
  private check(name: string | null = null): void {
    this.heardAt = Date.now()
    const markers = gitBusyMarkers(this.o.gitDir)
    if (name && (GIT_BUSY_MARKERS as readonly string[]).includes(name) && !markers.includes(name)) markers.push(name)
    if (markers.length > 0) {
      if (this.quiet) clearTimeout(this.quiet)
      this.quiet = null
      if (this.state !== 'busy') {
        const was = this.state
        this.state = 'busy'
        this.poll ??= setInterval(() => this.check(), this.pollMs)
        if (was === 'idle') {
          log('git busy: %s', markers.join(', '))
          this.emit('busy', markers)
        }
      }
      return
    }
    if (this.state === 'busy') this.settle(this.quietMs)
  }

  private settle(ms: number): void {
    this.state = 'settling'
    if (this.quiet) clearTimeout(this.quiet)
    this.quiet = setTimeout(() => {
      this.quiet = null
      if (gitBusyMarkers(this.o.gitDir).length > 0) return this.check()
      this.state = 'idle'
      if (this.poll) clearInterval(this.poll)
      this.poll = null
      log('git idle')
      this.emit('idle')
    }, ms)
  }

  close(): void {
    this.watcher?.close()
    this.watcher = null
    if (this.quiet) clearTimeout(this.quiet)
    if (this.poll) clearInterval(this.poll)
    this.quiet = this.poll = null
  }
}

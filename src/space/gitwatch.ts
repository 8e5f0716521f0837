/**
 * The daemon's side of "git operations are not edits": while git rewrites files the watcher is paused and
 * remote changes wait in the CRDT (no file is written under git's feet); when git is done, every file is
 * reconciled with git in mind (`Space.resumeAfterGit`) and only then does the watcher resume — its re-check of
 * every file then finds nothing it has not seen.
 *
 * Under `branches: separate`, a checkout that changed the branch asks the daemon to restart on the new
 * branch's state instead (`onBranchChange`).
 */
import { GitActivity } from '../git/activity.js'
import type { FileWatcher as Watcher } from '../fs/watcher.js'
import { logger } from '../debuglog.js'
import type { Space } from './space.js'
import { DETACHED } from './branches.js'

const log = logger('space:gitwatch')

export class GitWatch {
  private chain: Promise<void> = Promise.resolve()
  private head: string | null = null

  private constructor(
    private readonly space: Space,
    private readonly watcher: Watcher,
    private readonly activity: GitActivity,
    private readonly say: (line: string) => void,
    private readonly onBranchChange: () => void,
  ) {}

  /** Null outside a git repository. */
  static async attach(space: Space, watcher: Watcher, say: (line: string) => void, onBranchChange: () => void): Promise<GitWatch | null> {
    const repo = await space.gitRepo()
    if (!repo) return null
    const activity = new GitActivity({ gitDir: repo.gitDir, quietMs: Number(process.env.CTXSYNC_GIT_QUIET_MS) || undefined })
    const w = new GitWatch(space, watcher, activity, say, onBranchChange)
    w.head = await repo.head()
    activity.on('busy', (markers) => {
      log('pausing: git is at work (%s)', markers.join(', '))
      space.pauseForGit()
      watcher.pause()
    })
    activity.on('idle', () => w.enqueue())
    activity.on('error', (e) => say(`git watch: ${e.message}`))
    activity.start()
    return w
  }

  /** A hook reports the end of an operation: no need to wait out the quiet period. */
  poke(): void {
    this.activity.poke()
  }

  /** Resolves once git is idle (or `maxWaitMs` passed) and the reconciles started so far are done. */
  async untilGitIdle(maxWaitMs = 2000): Promise<void> {
    const deadline = Date.now() + maxWaitMs
    while (this.activity.busy && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    await this.chain
  }

  private enqueue(): void {
    this.chain = this.chain.then(() => this.afterGit()).catch((e: unknown) => this.say(`after git: ${(e as Error).message}`))
  }

  private async afterGit(): Promise<void> {
    if (this.activity.busy) return // git started again: the next idle does it
    const repo = (await this.space.gitRepo())!
    const before = this.head
    this.head = await repo.head()
    if (this.space.branch !== null && ((await repo.branch()) ?? DETACHED) !== this.space.branch) {
      this.say(`branch changed: switching to its context state`)
      this.onBranchChange()
      return
    }
    try {
      const r = await this.space.resumeAfterGit(before)
      if (r.branches.length) this.say(`merged the context state of branch ${r.branches.join(', ')}`)
      if (r.ingested.length) this.say(`took in new content from git: ${r.ingested.join(', ')}`)
      if (r.kept.length) this.say(`kept the live context after git rewrote ${r.kept.join(', ')}`)
    } finally {
      // Even after a failure: a paused watcher would silently stop syncing the files.
      if (!this.activity.busy) await this.watcher.resume()
    }
  }

  close(): void {
    this.activity.close()
  }
}

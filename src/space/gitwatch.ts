/**
 * The daemon's side of "git operations are not edits": while git rewrites files the watcher is paused and
 * remote changes wait in the CRDT (no file is written under git's feet); when git is done, every file is
 * reconciled with git in mind (`Space.resumeAfterGit`) and only then does the watcher resume — its re-check of
 * every file then finds nothing it has not seen.
 *
 * What the command meant decides what its writes are (`gitintent.ts`): a revert of files is an edit; a stash
 * of tracked files keeps the daemon paused — nothing written — until the stash entry is popped or dropped
 * (`stashhold.ts`, which also takes in a person's edits meanwhile).
 *
 * Under `branches: separate`, a checkout that changed the branch asks the daemon to restart on the new
 * branch's state instead (`onBranchChange`).
 */
import path from 'node:path'
import { GitActivity, gitBusyMarkers } from '../git/activity.js'
import type { Repo } from '../git/repo.js'
import type { FileWatcher as Watcher } from '../fs/watcher.js'
import { logger } from '../debuglog.js'
import type { Space } from './space.js'
import { DETACHED } from './branches.js'
import { classify, sameSnapshot, snapshot, type GitIntent, type GitSnapshot } from './gitintent.js'
import { DaemonStaged } from './gitstage.js'
import { StashHold, unstageAfterPop, type HoldHost } from './stashhold.js'
import { appendRecord, nameOperation, record, reportLines } from './gitreport.js'
import type { GitReport } from './gitingest.js'
import { UnfinishedGit } from './unfinished.js'
import { revertDetail } from './gitrevert.js'

const log = logger('space:gitwatch')
/** First wait before unstaging again after git held its index. */
const RETRY_MS = 200

export class GitWatch {
  private chain: Promise<void> = Promise.resolve()
  private head: string | null = null
  private snap: GitSnapshot | null = null
  /** The stash entry holding the live context of tracked files: while it is on top, nothing is written. */
  private held: StashHold | null = null
  /** Says when git waits mid-merge (or cherry-pick, revert, rebase) for the person. */
  private unfinished: UnfinishedGit | null = null
  /** Peers' new files this daemon staged: unstaged again when deleted (gitstage.ts). */
  private readonly ours: DaemonStaged
  /**
   * Peers' files written while git was at work (or a stash held the context): staged once git is done.
   * Dropped, a file written in a git command's quiet period (a `git status` refreshing the index is one)
   * stayed untracked, and the pull bringing it refused.
   */
  private readonly toStage = new Set<string>()
  /** Deleted while git was mid-operation, or git held its index: unstaged on a timer (see `midOperation`). */
  private readonly toUnstage = new Set<string>()
  private retry: NodeJS.Timeout | null = null
  private retryMs = RETRY_MS
  private closed = false

  private constructor(
    private readonly gitDir: string,
    private readonly space: Space,
    private readonly watcher: Watcher,
    private readonly activity: GitActivity,
    private readonly say: (line: string) => void,
    private readonly onBranchChange: () => void,
  ) {
    this.ours = new DaemonStaged(space.root, path.join(space.paths.state, 'git-staged.json'))
  }

  /** Null outside a git repository. */
  static async attach(space: Space, watcher: Watcher, say: (line: string) => void, onBranchChange: () => void): Promise<GitWatch | null> {
    const repo = await space.gitRepo()
    if (!repo) return null
    const activity = new GitActivity({ gitDir: repo.gitDir, quietMs: Number(process.env.CTXSYNC_GIT_QUIET_MS) || undefined })
    const w = new GitWatch(repo.gitDir, space, watcher, activity, say, onBranchChange)
    w.head = await repo.head()
    w.snap = await snapshot(repo, w.keep(repo))
    w.unfinished = new UnfinishedGit(repo.gitDir, space.root, () => [...space.docs()].map((d) => d.name), say)
    // A stash held the live context when the daemon stopped (the daemon started paused: heldAtStart).
    w.held = await StashHold.resume(repo, w.holdHost())
    if (w.held) {
      space.pauseForGit()
      watcher.pause()
      say(`git stash still holds the live context of ${w.held.names().join(', ')}: writing nothing until \`git stash pop\` (or drop)`)
    }
    activity.on('busy', (markers) => {
      log('pausing: git is at work (%s)', markers.join(', '))
      space.pauseForGit()
      watcher.pause()
      w.unfinished?.arm()
    })
    activity.on('idle', () => {
      w.unfinished?.reset()
      w.enqueue()
    })
    activity.on('error', (e) => say(`git watch: ${e.message}`))
    // A write asks whether git's directory changed since this watch last looked (githold.ts).
    space.gitHold.heardBy(() => activity.heardAt)
    // A file a peer created is staged, so that a pull bringing the same file is not refused (gitstage.ts).
    space.on('file-written', (name: string) => w.stage(name))
    // Deleted (by a peer, or here): what was staged for it must not be committed by a plain `git commit`.
    space.on('file-deleted', (name: string) => w.unstage(name))
    space.on('deleted-here', (name: string) => w.unstage(name))
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

  private stage(name: string): void {
    this.chain = this.chain
      .then(async () => {
        this.toUnstage.delete(name)
        if (this.activity.busy || this.held) return void this.toStage.add(name)
        await this.stageNow(name)
      })
      .catch((e: unknown) => this.say(`staging ${name}: ${(e as Error).message}`))
  }

  private async stageNow(name: string): Promise<void> {
    this.toStage.delete(name)
    if (await this.ours.stage((await this.space.gitRepo())!, name)) this.say(`staged ${name}, new to git here, so that a pull bringing it works`)
  }

  /** What was written while git was at work, once it is done (a git command since: its idle does it). */
  private async stageWaiting(): Promise<void> {
    for (const name of [...this.toStage]) {
      if (this.activity.busy || this.held) return
      await this.stageNow(name).catch((e: unknown) => this.say(`staging ${name}: ${(e as Error).message}`))
    }
    await this.unstageWaiting()
  }

  /**
   * Unstaging waits out git's multi-step operations (a merge, a rebase, a stash the daemon holds), not each
   * index lock: a tool that runs `git status` more often than the quiet period (an editor, a prompt, a script
   * polling) keeps the watch busy without end, and what the daemon had staged for a deleted file stayed staged
   * ('AD'; CI, e2e git-hygiene, whose wait polls `git status`). Removing the entry between two commands
   * changes nothing a command relies on: the file is gone from the work tree and the entry is still the blob
   * the daemon staged (gitstage.ts checks). A lock held at that moment fails the `git rm --cached`: tried
   * again on a timer (`retrySoon`).
   */
  private midOperation(): boolean {
    return this.held !== null || gitBusyMarkers(this.gitDir).some((m) => m !== 'index.lock')
  }

  private async unstageWaiting(): Promise<void> {
    for (const name of [...this.toUnstage]) {
      if (this.midOperation()) return this.retrySoon()
      await this.unstageNow(name).catch((e: unknown) => this.say(`unstaging ${name}: ${(e as Error).message}`))
    }
    if (this.toUnstage.size === 0) this.retryMs = RETRY_MS
  }

  /** Tries `toUnstage` again, backing off to a few seconds while git stays at work. */
  private retrySoon(): void {
    if (this.retry || this.closed || this.toUnstage.size === 0) return
    this.retry = setTimeout(() => {
      this.retry = null
      this.chain = this.chain.then(() => this.unstageWaiting()).catch((e: unknown) => this.say(`unstaging: ${(e as Error).message}`))
    }, this.retryMs)
    this.retryMs = Math.min(this.retryMs * 2, 4000)
  }

  private unstage(name: string): void {
    this.chain = this.chain
      .then(async () => {
        this.toStage.delete(name)
        if (this.held) return
        if (this.midOperation()) return void (this.toUnstage.add(name), this.retrySoon())
        await this.unstageNow(name)
      })
      .catch((e: unknown) => this.say(`unstaging ${name}: ${(e as Error).message}`))
  }

  private async unstageNow(name: string): Promise<void> {
    this.toUnstage.delete(name)
    const r = await this.ours.unstage((await this.space.gitRepo())!, name)
    if (r === 'retry') (this.toUnstage.add(name), this.retrySoon())
    else if (r) this.say(`unstaged ${name}, deleted: it was staged only so that a pull bringing it works`)
  }

  private enqueue(): void {
    this.chain = this.chain
      .then(() => this.afterGit())
      .catch((e: unknown) => this.say(`after git: ${(e as Error).message}`))
      .then(() => this.stageWaiting())
  }

  private async afterGit(): Promise<void> {
    if (this.activity.busy) return // git started again: the next idle does it
    const repo = (await this.space.gitRepo())!
    const now = await this.settled(repo)
    if (!now) return // git started again: the next idle does it
    const prev = this.snap
    let intent: GitIntent
    let staged = new Map<string, string>()
    if (this.held) {
      this.snap = now
      // Still in the stash and the files still git's, or edited by a person: stay paused (a pull meanwhile
      // is fine; the daemon's own `git add` of an edit comes here too).
      const s = now.stash === this.held.oid ? await this.held.state() : null
      if (s && !s.over) {
        if (s.edited.length) await this.held.takeIn(s.edited)
        return
      }
      const bases = await this.held.bases()
      staged = this.held.staged()
      await this.held.forget()
      this.unhold()
      this.say('the stash no longer holds the live context (popped, dropped, applied or edited): writing it again')
      intent = { kind: 'move', bases }
    } else {
      intent = await classify(repo, this.snap ?? now, now, this.space.root, this.space.match)
      // Git started again while this looked (its busy paused the space): resuming now would write and take
      // in files under the new command's feet. The next idle looks again from the same snapshot, both
      // commands as one, as when both fall in one quiet period.
      if (this.activity.busy) return
      this.snap = now
    }
    if (intent.kind === 'stash') {
      this.held = await StashHold.start(repo, intent.oid, intent.files, this.holdHost())
      this.say(`git stash holds the live context of ${intent.files.join(', ')}: writing nothing until \`git stash pop\` (or drop)`)
      return
    }
    const before = this.head
    this.head = now.head
    if (intent.kind === 'move') intent = { ...intent, from: before }
    if (this.space.branch !== null && ((await repo.branch()) ?? DETACHED) !== this.space.branch) {
      this.say(`branch changed: switching to its context state`)
      this.onBranchChange()
      return
    }
    try {
      const r = await this.space.resumeAfterGit(before, intent)
      if (r.branches.length) this.say(`merged the context state of branch ${r.branches.join(', ')}`)
      // A checkout to an older commit leaves the files modified against it; git switch refuses to leave over
      // them (autostash does not apply to checkout), git switch -m merges them through the driver.
      // (Some branch is ahead of HEAD: HEAD is older. Not judged by the HEAD before: a commit and a switch
      // seen in one quiet period leave it where it was.)
      const away = r.kept.length > 0 && now.head !== null && ((await repo.tryRaw(['for-each-ref', '--contains', now.head, '--format=%(objectname)', 'refs/heads'])) ?? '').split('\n').some((o) => o !== '' && o !== now.head)
      await this.report(repo, r, intent, prev, now, away)
      // What peers sent while git worked waited in the CRDT: written now (a file git left alone is not
      // looked at by the reconcile, which only takes in what changed on disk).
      for (const d of this.space.docs()) void this.space.scheduleWriteBack(d.name)
      // What the hold staged so that the pop could merge into it: unstaged, as it was before (stashhold.ts).
      await unstageAfterPop(repo, staged)
    } finally {
      // Even after a failure: a paused watcher would silently stop syncing the files.
      if (!this.activity.busy) await this.watcher.resume()
    }
  }

  /** The space's tracked files, as repository paths (their index entries go into snapshots). */
  private keep(repo: Repo): (p: string) => boolean {
    const prefix = path.relative(repo.root, this.space.root).split(path.sep).join('/')
    return (p) => (prefix === '' ? this.space.match(p) : p.startsWith(prefix + '/') && this.space.match(p.slice(prefix.length + 1)))
  }

  /**
   * A snapshot that held still for a quiet period (null: git got busy again). One command's steps can be
   * far apart on a loaded machine — a revert or a pull writes the files and the index, then moves HEAD
   * without a lock this watch sees — and a reconcile in between took it for a revert of the files.
   */
  private async settled(repo: Repo): Promise<GitSnapshot | null> {
    const quiet = Number(process.env.CTXSYNC_GIT_QUIET_MS) || 250
    let s = await snapshot(repo, this.keep(repo))
    // At most a few rounds: a hook asking for a sync point waits for this (untilGitIdle).
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, quiet))
      if (this.activity.busy) return null
      const again = await snapshot(repo, this.keep(repo))
      if (sameSnapshot(s, again)) return again
      s = again
    }
    return s
  }

  /** Says what git did to which files and what became of it, and keeps it for `ctxsync log` (gitreport.ts). */
  private async report(repo: Repo, r: GitReport, intent: GitIntent, prev: GitSnapshot | null, now: GitSnapshot, away: boolean): Promise<void> {
    const { op, head } = await nameOperation(repo, intent, prev, now)
    const detail = new Map<string, string>()
    for (const n of r.reverted) detail.set(n, await revertDetail(this.space.root, this.space.paths.state, this.space.versions, n).catch(() => ''))
    for (const line of reportLines(r, op, away, detail)) this.say(line)
    const rec = record(r, op, head, this.space.author.name, path.relative(repo.root, this.space.root).split(path.sep).join('/'))
    if (rec) await appendRecord(this.space.paths.state, rec).catch((e: unknown) => log('journal: %s', (e as Error).message))
  }

  private holdHost(): HoldHost {
    return {
      space: this.space,
      busy: () => this.activity.busy,
      say: this.say,
      recheck: () => this.enqueue(),
      queue: (job) => void (this.chain = this.chain.then(job).catch((e: unknown) => this.say(`under the stash: ${(e as Error).message}`))),
    }
  }

  private unhold(): void {
    this.held?.close()
    this.held = null
  }

  close(): void {
    this.closed = true
    if (this.retry) clearTimeout(this.retry)
    this.unhold()
    this.unfinished?.reset()
    this.activity.close()
  }
}

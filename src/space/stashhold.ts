/**
 * While `git stash` holds the live context of some tracked files (`gitintent.ts`), nothing is written to
 * them: `git stash pop` refuses to run over "local changes" to a file the entry holds. The hold ends when
 * the entry leaves the top of the stash (`pop`, `drop`, `clear`) or is applied; then the daemon reconciles
 * (`gitwatch.ts`) and writes what peers sent meanwhile.
 *
 * A person may edit such a file meanwhile. The edit is taken in and synced like any other, diffed against
 * git's version (what the stash left on disk, and what the person edited), so the stashed changes stay in
 * the live context; the file is left as the person wrote it, and staged. Why staged: git's pop refuses over
 * an unstaged change to a file the entry holds but merges the entry into a staged one (through the ctxsync
 * merge driver), so plain `git stash pop` then succeeds with both the stashed changes and the edit, as it
 * does for a file the entry does not hold. Written instead (the live context, stashed changes included),
 * the file ended the hold and the pop refused (black-box tester). Once the hold is over, what the daemon
 * staged is unstaged again (`unstageAfterPop`) unless the person staged something else since: the pop
 * keeps the index as it was, and a plain git user found the file staged ('MM') where they staged nothing.
 *
 * The hold is kept in the state directory (`stash-hold.json`) while it lasts: a daemon restarted meanwhile
 * starts paused and holding again (`heldAtStart`, before its first scan) while that entry is still on top.
 * Forgotten, the restarted daemon wrote the live context back over git's version, and `git stash pop`
 * refused over it.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import type { Repo } from '../git/repo.js'
import { asDocName } from '../ids.js'
import { logger } from '../debuglog.js'
import { writeFileAtomic } from '../fs/atomic.js'
import { stashTop } from './gitintent.js'
import { forgetHold, holdFile, readKept, type Kept } from './stashfile.js'
import type { Space } from './space.js'

/** How often a held stash is looked at: `git stash drop` and `clear` take no lock the activity watch would see. */
const STASH_POLL_MS = 500

const log = logger('space:stashhold')

export interface HoldHost {
  readonly space: Space
  /** Git is at work: what the disk holds may be half of it. */
  busy(): boolean
  say(line: string): void
  /** The hold may be over: the daemon looks again, as after any git command. */
  recheck(): void
  /** Runs `job` after the reconciles under way (one chain with them). */
  queue(job: () => Promise<void>): void
}

interface HeldFile {
  /** Blobs of HEAD's and the stash entry's version (null: absent). */
  head: string | null
  stash: string | null
  /** What the disk should hold while the hold lasts: HEAD's version, then the person's last edit taken in. */
  expect: string | null
  /** The person's last edit taken in (null: none). */
  edit: string | null
  taken: boolean
  /** The blob the daemon last staged (null: none). */
  staged: string | null
}

export class StashHold {
  private readonly poll: NodeJS.Timeout
  private looking = false
  private closed = false

  private constructor(
    readonly oid: string,
    private readonly repo: Repo,
    private readonly prefix: string,
    private readonly files: Map<string, HeldFile>,
    private readonly host: HoldHost,
  ) {
    this.poll = setInterval(() => void this.look(), STASH_POLL_MS)
    this.poll.unref()
  }

  /** Holds `names` (space paths) of stash entry `oid`. */
  static async start(repo: Repo, oid: string, names: string[], host: HoldHost): Promise<StashHold> {
    const prefix = path.relative(repo.root, host.space.root).split(path.sep).join('/')
    const at = (rev: string, n: string) => `${rev}:${prefix === '' ? n : `${prefix}/${n}`}`
    const blobs = await repo.resolveMany(names.flatMap((n) => [at('HEAD', n), at(oid, n)]))
    const files = new Map(names.map((n): [string, HeldFile] => {
      const head = blobs.get(at('HEAD', n)) ?? null
      return [n, { head, stash: blobs.get(at(oid, n)) ?? null, expect: head, edit: null, taken: false, staged: null }]
    }))
    const hold = new StashHold(oid, repo, prefix, files, host)
    await hold.save()
    return hold
  }

  /** The hold a daemon stopped with, when its stash entry is still on top (else forgotten). */
  static async resume(repo: Repo, host: HoldHost): Promise<StashHold | null> {
    const kept = await readHold(host.space.paths.state)
    if (!kept) return null
    if ((await stashTop(repo)) !== kept.oid) {
      await forgetHold(host.space.paths.state)
      return null
    }
    const prefix = path.relative(repo.root, host.space.root).split(path.sep).join('/')
    log('holding again for stash %s: %s', kept.oid, Object.keys(kept.files).join(', '))
    return new StashHold(kept.oid, repo, prefix, new Map(Object.entries(kept.files)), host)
  }

  /** Kept for a daemon that starts while the entry still holds the files. */
  private async save(): Promise<void> {
    const kept: KeptHold = { oid: this.oid, files: Object.fromEntries(this.files) }
    await writeFileAtomic(holdFile(this.host.space.paths.state), JSON.stringify(kept) + '\n', { mode: 0o600 }).catch((e: Error) => log('keeping the hold: %s', e.message))
  }

  /** The hold is over: a daemon starting later holds nothing. */
  forget(): Promise<void> {
    return forgetHold(this.host.space.paths.state)
  }

  /**
   * Where the hold stands (the stash entry still on top): over when a held file was deleted, holds the
   * entry's version (`git stash apply`) or has no version of git's an edit could be made from; otherwise
   * the files a person changed since (an edit, to take in with `takeIn`).
   */
  async state(): Promise<{ over: boolean; edited: string[] }> {
    const edited: string[] = []
    for (const [name, h] of this.files) {
      const b = await this.blobOnDisk(name)
      if (b === h.expect) continue
      if (b === null || b === h.stash || h.head === null) return { over: true, edited: [] }
      edited.push(name)
    }
    return { over: false, edited }
  }

  /**
   * For each file edited meanwhile, what `git stash pop` leaves was made from (oldest first): the stashed
   * text and the last edit. Diffed against one of them, it changes nothing the live context holds;
   * diffed against the live rendering, it undid what peers sent during the hold.
   */
  async bases(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>()
    for (const [name, h] of this.files) {
      if (h.edit === null) continue
      const stashed = h.stash === null ? null : await this.repo.readBlob(h.stash)
      out.set(name, [...(stashed === null ? [] : [stashed]), h.edit])
    }
    return out
  }

  /** What the daemon staged, by repository path: the blob each file's index entry holds if nobody staged since. */
  staged(): Map<string, string> {
    return new Map([...this.files].flatMap(([name, h]) => (h.staged === null ? [] : [[this.gitPath(name), h.staged]])))
  }

  /** The files held (space paths). */
  names(): string[] {
    return [...this.files.keys()]
  }

  close(): void {
    this.closed = true
    clearInterval(this.poll)
  }

  private gitPath(name: string): string {
    return this.prefix === '' ? name : `${this.prefix}/${name}`
  }

  private blobOnDisk(name: string): Promise<string | null> {
    return fsp.readFile(path.join(this.host.space.root, name)).then((t) => this.repo.blobId(t), () => null)
  }

  /** The poll: the entry gone or applied ends the hold; a person's edit is taken in. */
  private async look(): Promise<void> {
    if (this.looking || this.closed || this.host.busy()) return
    this.looking = true
    try {
      const top = await stashTop(this.repo)
      const s = top === this.oid ? await this.state() : { over: true, edited: [] }
      if (this.closed || this.host.busy()) return
      if (s.over) return this.host.recheck()
      if (s.edited.length) await new Promise<void>((done) => this.host.queue(() => this.takeIn(s.edited).finally(done)))
    } finally {
      this.looking = false
    }
  }

  /** Takes in what a person saved in `names` (space paths) and stages it. */
  async takeIn(names: string[]): Promise<void> {
    for (const name of names) {
      const h = this.files.get(name)!
      if (this.closed || this.host.busy()) return
      const head = await this.repo.readBlob(h.head!)
      if (head === null) continue
      const text = await this.host.space.takeInUnderStash(asDocName(name), head, !h.taken)
      if (text === null || this.closed) continue
      h.expect = this.repo.blobId(text)
      h.edit = text
      const first = !h.taken
      h.taken = true
      // What is on disk now (a newer save is seen by the next poll, taken in and staged in turn).
      const staged = (await this.repo.tryRaw(['add', '--', this.gitPath(name)])) !== null
      if (staged) h.staged = h.expect
      await this.save()
      log('%s: edit under the stash taken in, %s', name, staged ? 'staged' : 'not staged')
      if (first) {
        this.host.say(`${name}: your edit is taken in and synced while \`git stash\` holds the live context; ` +
          (staged ? 'staged, so that `git stash pop` merges the stash into it' : `run \`git add ${this.gitPath(name)}\` before \`git stash pop\` (it refuses over an unstaged change)`))
      }
    }
  }
}

/**
 * After the hold: the index entries the daemon staged (`staged`, repository path → blob) go back to HEAD's
 * version when they still hold that blob (`git stash pop` without `--index` keeps the index as it was); one
 * the person staged since is theirs and stays. Returns the paths unstaged.
 */
export async function unstageAfterPop(repo: Repo, staged: Map<string, string>): Promise<string[]> {
  if (staged.size === 0) return []
  const now = await repo.indexBlobs((p) => staged.has(p))
  const ours = [...staged].filter(([p, b]) => now.get(p) === b).map(([p]) => p)
  if (ours.length === 0) return []
  if ((await repo.tryRaw(['reset', '-q', '--', ...ours])) === null) return []
  log('unstaged %s after the stash hold', ours.join(', '))
  return ours
}

type KeptHold = Kept<HeldFile>
const readHold = (state: string) => readKept<HeldFile>(state)

/**
 * Does a stash entry still hold the live context a daemon stopped with (its hold kept, the entry on top)?
 * Asked before a daemon's first scan, which would otherwise write the live context over git's version.
 */
export async function heldAtStart(repo: Repo, state: string): Promise<boolean> {
  const kept = await readHold(state)
  return kept !== null && (await stashTop(repo)) === kept.oid
}

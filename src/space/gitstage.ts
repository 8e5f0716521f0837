/**
 * A context file the daemon writes that git does not track yet is staged (`git add`), so that plain
 * `git pull` works when a teammate commits the same file.
 *
 * Why: a file a peer created reaches this clone live, untracked. When the peer commits and pushes it, the
 * pull here refuses ("untracked working tree files would be overwritten by merge"): autostash takes only
 * tracked files. `git add --intent-to-add` does not help — git 2.39's stash refuses an i-t-a entry ("not
 * uptodate. Cannot merge", "Cannot autostash"). A staged new file is stashed and applied like any change: the
 * merge then creates the file, the stash applies an add/add that is clean when the texts match and goes
 * through the ctxsync merge driver when they do not. Only files git neither tracks nor ignores are staged,
 * and only files the daemon wrote (a peer's): the user's own new files stay theirs to add.
 *
 * When such a file is deleted (a peer's deletion arrives, or someone removes it here), what the daemon staged
 * is unstaged again: left staged, `git status` showed `AD` and a plain `git commit` committed a file the team
 * had deleted (black-box tester). Only while the index still holds exactly the blob the daemon staged and
 * HEAD has no such file: a person's own `git add` since is theirs. What was staged is kept in the state
 * directory too (`git-staged.json`, written whole through a temp file and a rename): kept in memory only, a
 * daemon restarted between the staging and the deletion left `AD` behind.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Repo } from '../git/repo.js'
import { writeFileAtomic } from '../fs/atomic.js'
import { logger } from '../debuglog.js'

const log = logger('space:gitstage')

export class DaemonStaged {
  /** Repository path → the blob the daemon staged for it. */
  private readonly staged = new Map<string, string>()
  private loaded: Promise<void> | null = null

  /** `file`: where what was staged is kept across restarts (none: in memory only). */
  constructor(private readonly spaceRoot: string, private readonly file: string | null = null) {}

  /** What an earlier daemon staged; a file that is missing or does not parse holds nothing. */
  private load(): Promise<void> {
    this.loaded ??= (async () => {
      if (!this.file) return
      const raw = await fs.readFile(this.file, 'utf8').catch(() => null)
      try {
        const kept = raw === null ? {} : (JSON.parse(raw) as unknown)
        if (kept && typeof kept === 'object') for (const [k, v] of Object.entries(kept)) if (typeof v === 'string') this.staged.set(k, v)
      } catch {
        log('%s does not parse: nothing staged is remembered', this.file)
      }
    })()
    return this.loaded
  }

  private async save(): Promise<void> {
    if (!this.file) return
    if (this.staged.size === 0) return void (await fs.rm(this.file, { force: true }))
    await writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.staged)) + '\n')
  }

  /** Stages `name` (a space path) when git neither tracks nor ignores it; true when it did. */
  async stage(repo: Repo, name: string): Promise<boolean> {
    const rel = this.rel(repo, name)
    const known = await repo.tryRaw(['ls-files', '-z', '--', rel])
    if (known === null || known !== '') return false
    // Prints the path when ignored (its exit status does not reach us through simple-git).
    const ignored = await repo.tryRaw(['check-ignore', '--', rel])
    if (ignored === null || ignored.trim() !== '') return false
    const added = await repo.tryRaw(['add', '--', rel])
    log('%s: staged as new (%s)', rel, added === null ? 'failed' : 'ok')
    if (added === null) return false
    const oid = await indexBlob(repo, rel)
    if (oid) {
      await this.load()
      this.staged.set(rel, oid)
      await this.save()
    }
    return true
  }

  /** `name` is gone from the work tree: unstages what `stage` staged, if the index still holds just that. */
  /** true: unstaged; false: nothing of ours to unstage; 'retry': git held its index (try again once git is done). */
  async unstage(repo: Repo, name: string): Promise<boolean | 'retry'> {
    const rel = this.rel(repo, name)
    await this.load()
    const oid = this.staged.get(rel)
    if (oid === undefined) return false
    const forget = async (): Promise<false> => {
      this.staged.delete(rel)
      await this.save()
      return false
    }
    if ((await indexBlob(repo, rel)) !== oid) return forget()
    if ((await repo.tryRaw(['ls-tree', '--name-only', 'HEAD', '--', rel]))?.trim()) return forget() // committed since: git's now
    const removed = await repo.tryRaw(['rm', '--cached', '-q', '--', rel])
    log('%s: unstaged after its deletion (%s)', rel, removed === null ? 'failed' : 'ok')
    // Failed while a `git status` of the user's held index.lock (CI, git-hygiene, under load): remembered.
    if (removed === null) return 'retry'
    await forget()
    return true
  }

  private rel(repo: Repo, name: string): string {
    return path.relative(repo.root, path.join(this.spaceRoot, name)).split(path.sep).join('/')
  }
}

/** The blob the index holds for a repository path (stage 0), or null. */
async function indexBlob(repo: Repo, rel: string): Promise<string | null> {
  const out = await repo.tryRaw(['ls-files', '-s', '-z', '--', rel])
  const rec = (out ?? '').split('\0').find((r) => r.endsWith(`\t${rel}`))
  const [, oid, stage] = rec ? rec.slice(0, rec.indexOf('\t')).split(' ') : []
  return stage === '0' ? oid ?? null : null
}

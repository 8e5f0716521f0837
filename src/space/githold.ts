/**
 * No tracked file is written while git rewrites files (issue 15): `git pull --rebase` refused its pick
 * ("Your local changes … would be overwritten") over a context file the daemon wrote between the rebase's
 * checkout onto upstream and the pick — a write begun before git started, or before the git watch's event
 * paused the daemon, landed under git's feet. Every write asks `hold` right at its rename (context.ts
 * `gitHold`); what it holds is written again once git is done.
 */
import { statSync } from 'node:fs'
import { gitBusyMarkers } from '../git/activity.js'
import type { Repo } from '../git/repo.js'
import type { DocName } from '../ids.js'

export interface GitHoldOptions {
  /** The daemon paused for git: its resume afterwards writes every file. */
  paused(): boolean
  closed(): boolean
  writeAgain(name: DocName): void
  /** How often a held file looks again whether git is done (default 100 ms). */
  retryMs?: number
}

/**
 * How long a change in git's directory that the git watch has not heard of yet holds writes: one command's
 * steps follow each other within milliseconds (a rebase's autostash check takes and drops `index.lock`, then
 * makes `rebase-merge/`), and a write landing between the two, before the watch's event paused the daemon,
 * made the checkout onto upstream refuse. Bounded: an event the platform dropped must not stop every write.
 */
export const UNHEARD_MS = 1000

export class GitHold {
  /** The repository's git directory once looked up (undefined before, null without one). */
  #gitDir: string | null | undefined = undefined
  /** Files held while the daemon was not paused: written again once git's markers are gone. */
  readonly #held = new Set<DocName>()

  #repo: Promise<Repo | null> | null = null

  constructor(private readonly open: () => Promise<Repo | null>, private readonly o: GitHoldOptions) {}

  /** The git repository around the space (null without one), looked up once. */
  repo(): Promise<Repo | null> {
    this.#repo ??= this.open().then((r) => ((this.#gitDir = r?.gitDir ?? null), r))
    return this.#repo
  }

  /** When the git watch last looked at git's directory (a daemon's; none elsewhere): see UNHEARD_MS. */
  #heardAt: (() => number) | null = null

  heardBy(at: () => number): void {
    this.#heardAt = at
  }

  /** True: write nothing now. */
  hold(name: DocName): boolean {
    if (this.o.paused()) return true
    if (this.#gitDir === undefined) void this.repo().catch(() => undefined)
    if (!this.busy()) return false
    if (!this.#held.has(name)) {
      this.#held.add(name)
      const again = (): void => {
        if (this.o.closed()) return void this.#held.delete(name)
        if (!this.o.paused() && this.busy()) return void setTimeout(again, this.o.retryMs ?? 100).unref()
        this.#held.delete(name)
        // Paused meanwhile: the resume writes it (and writing now would be held again anyway).
        if (!this.o.paused()) this.o.writeAgain(name)
      }
      setTimeout(again, this.o.retryMs ?? 100).unref()
    }
    return true
  }

  private busy(): boolean {
    if (!this.#gitDir) return false
    if (gitBusyMarkers(this.#gitDir).length > 0) return true
    if (!this.#heardAt) return false
    let changed: number
    try {
      changed = statSync(this.#gitDir).mtimeMs
    } catch {
      return false
    }
    return changed > this.#heardAt() && Date.now() - changed < UNHEARD_MS
  }
}

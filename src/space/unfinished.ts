/**
 * Saying that git stopped mid-operation. While a merge, cherry-pick, revert or rebase waits for the person
 * (conflicts to resolve), git's marker (`MERGE_HEAD`…) keeps the daemon paused: nothing is taken in or
 * written. The log said nothing of it, and a file full of conflict markers looked `pending` (issue 17
 * tester). Once such a marker has stood a while (a merge without conflicts holds one only for a moment), the
 * daemon says what waits and how it ends, and names each file that holds git's markers, at the first one.
 */
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { gitBusyMarkers } from '../git/activity.js'
import { CONFLICT_MARKERS, conflictMarkerLine, parseYaml } from '../crdt/parse.js'
import { heldReason } from './markers.js'

/** How long a marker stands before it is said: longer than git holds one in a merge that needs nobody. */
const SAY_AFTER_MS = 1_500

/**
 * [marker, what, how it ends]. A rebase holds its directory while it runs too (and its hooks, ours among
 * them, can take seconds): it is said only once it stopped for the person (`stopped-sha`, or the am backend).
 */
const OPERATIONS: Array<[marker: string, what: string, end: string]> = [
  ['MERGE_HEAD', 'a merge', 'committed or aborted (`git merge --abort`)'],
  ['CHERRY_PICK_HEAD', 'a cherry-pick', 'continued or aborted (`git cherry-pick --continue` / `--abort`)'],
  ['REVERT_HEAD', 'a revert', 'continued or aborted (`git revert --continue` / `--abort`)'],
  ['rebase-merge/stopped-sha', 'a rebase', 'continued or aborted (`git rebase --continue` / `--abort`)'],
  ['rebase-apply', 'a rebase', 'continued or aborted (`git rebase --continue` / `--abort`)'],
]

export class UnfinishedGit {
  #timer: NodeJS.Timeout | null = null
  #said = false
  /** The operation's marker at the last look. */
  #first: string | null = null
  /** The files said to hold markers, and the operation they were said under. */
  #named: { files: string[]; op: string } | null = null

  constructor(
    private readonly gitDir: string,
    private readonly root: string,
    private readonly files: () => Iterable<string>,
    private readonly say: (line: string) => void,
  ) {}

  /** Git got busy: look again once a marker could have stood for a while. */
  arm(): void {
    if (this.#timer || this.#said) return
    this.#timer = setInterval(() => void this.#look(), SAY_AFTER_MS)
    this.#timer.unref?.()
  }

  /** Git is done: said again next time. */
  reset(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
    this.#said = false
    this.#first = null
    const named = this.#named
    this.#named = null
    if (named) void this.#fixed(named.files, named.op)
  }

  /**
   * A file said to hold markers that parses once git is done is taken in by the reconcile that follows: said
   * so, as the log had said nothing after `git checkout --theirs` and the commit (issue 17, black-box tester).
   * The file was never held in the space (the daemon waits while git is busy), so no release is said for it;
   * one that still does not parse is held by that reconcile, which says so. Nothing while git is still busy
   * (a daemon stopping mid-merge).
   */
  async #fixed(files: string[], op: string): Promise<void> {
    if (gitBusyMarkers(this.gitDir).length > 0) return
    for (const name of files) {
      const text = await fsp.readFile(path.join(this.root, name), 'utf8').catch(() => null)
      if (text === null || !parses(text)) continue
      this.say(`${name}: parses again (the ${op} is over): taken in`)
    }
  }

  async #look(): Promise<void> {
    if (gitBusyMarkers(this.gitDir).length === 0) return
    const op = OPERATIONS.find(([m]) => fs.existsSync(path.join(this.gitDir, m)))
    // Said only for a marker seen at two looks in a row: it stood at least SAY_AFTER_MS.
    if (!op || this.#first !== op[0]) {
      this.#first = op?.[0] ?? null
      return
    }
    this.#said = true
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
    const [marker, what, end] = op
    const named: string[] = []
    this.say(`git is in the middle of ${what} (${marker.split('/')[0]}): context files are left as they are — nothing taken in, nothing written, peers' changes wait — until it is ${end}`)
    for (const name of this.files()) {
      const text = await fsp.readFile(path.join(this.root, name), 'utf8').catch(() => null)
      const line = text === null ? null : conflictMarkerLine(text)
      if (line === null) continue
      named.push(name)
      this.say(`${name}:${line}:1: ${await heldReason(this.root, name, CONFLICT_MARKERS)}`)
    }
    this.#named = named.length ? { files: named, op: what.replace(/^an? /, '') } : null
  }
}

function parses(text: string): boolean {
  try {
    parseYaml(text)
    return true
  } catch {
    return false
  }
}

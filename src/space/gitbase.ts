/**
 * What the CRDT already knows of the content git put in a file, and what to diff new content against.
 *
 * A text is *known* when this CRDT has held it (`seen`), a peer took it in from git (a git mark), a sync
 * point says some peer's CRDT held it at that commit, or — for a merge commit — every parent's version is
 * known (the merge only combined known content). Known content makes no operations: it is an older or
 * equal state of the live context.
 *
 * New content is diffed against a *base*: the known text nearest to it. Candidates are the known versions
 * found by walking the history back from HEAD (stopping each path at the first known commit) plus the text
 * the file held before git touched it; the one with the fewest differing lines wins, commits first on a
 * tie. Every peer that pulls the same commit walks the same history and the same notes, so all of them pick
 * the same base — which is what makes their operations coincide (see `gitingest.ts`).
 */
import path from 'node:path'
import { diffArrays } from 'diff'
import type { Matcher } from '../fs/globs.js'
import { merge3 } from '../crdt/merge/merge3.js'
import { parses } from '../crdt/parse.js'
import type { Rules } from '../crdt/rules.js'
import type { Credit } from '../crdt/schema.js'
import { mergeFileTexts } from '../git/merge-file.js'
import { sha256hex } from '../ids.js'
import { syncPointsOf, noteIndex, type SyncPoint } from '../git/notes.js'
import { creditsOf, stepsSince, type Step } from './gitsteps.js'
import { diffFlat, flatten } from './versions/fields.js'
import type { CommitInfo, Repo } from '../git/repo.js'
import type { TrackedFile } from './trackedfile.js'

const HISTORY_MAX = 200
const FRONTIER_MAX = 8
const VERSIONS_MAX = 32

/** One reconcile's view of the repository, loaded once and shared by every file. */
export class GitView {
  private historyP: Promise<CommitInfo[]> | null = null
  private pointsP: Promise<Map<string, SyncPoint[]>> | null = null
  private blobsOf = new Map<string, Promise<Map<string, string | null>>>()
  private texts = new Map<string, Promise<string | null>>()

  private constructor(
    readonly repo: Repo,
    /** The space's directory inside the work tree ('' at its top): doc names are relative to it. */
    readonly prefix: string,
    readonly head: CommitInfo | null,
    readonly headBlobs: Map<string, string>,
    readonly indexBlobs: Map<string, string>,
  ) {}

  static async load(repo: Repo, spaceRoot: string, match: Matcher): Promise<GitView> {
    const prefix = path.relative(repo.root, spaceRoot).split(path.sep).join('/')
    const toName = (p: string) => (prefix === '' ? p : p.startsWith(prefix + '/') ? p.slice(prefix.length + 1) : null)
    const keep = (p: string) => {
      const n = toName(p)
      return n !== null && match(n)
    }
    const strip = (m: Map<string, string>) => new Map([...m].map(([p, oid]) => [toName(p)!, oid]))
    const headId = await repo.head()
    const [head, headBlobs, indexBlobs] = await Promise.all([
      headId ? repo.commit(headId) : null,
      headId ? repo.treeBlobs(headId, keep) : new Map<string, string>(),
      repo.indexBlobs(keep),
    ])
    return new GitView(repo, prefix, head, strip(headBlobs), strip(indexBlobs))
  }

  private gitPath(name: string): string {
    return this.prefix === '' ? name : `${this.prefix}/${name}`
  }

  /** Whether `text` (at `name`) is what git has there now — in HEAD or staged — rather than a local edit. */
  fromGit(name: string, text: string | null): boolean {
    if (text === null) return !this.headBlobs.has(name) && !this.indexBlobs.has(name)
    const b = this.repo.blobId(text)
    return b === this.headBlobs.get(name) || b === this.indexBlobs.get(name)
  }

  /**
   * Whether a checkout from commit `from` to HEAD left `name` alone: both hold the same blob of it, or neither
   * has it (git rewrites only what differs between the two trees: `git switch -c` rewrites nothing).
   */
  async untouched(name: string, from: string | null | undefined): Promise<boolean> {
    if (!from || !this.head) return false
    return from === this.head.hash || (await this.blobAt(from, name)) === (this.headBlobs.get(name) ?? null)
  }

  /** `name` as commit `commit` holds it (null: none there, or no such commit). */
  async textAt(commit: string, name: string): Promise<string | null> {
    const oid = await this.blobAt(commit, name)
    return oid ? await this.text(oid) : null
  }

  /** The blob id of `name` in commit `commit` (null: none there). */
  private async blobAt(commit: string, name: string): Promise<string | null> {
    const spec = `${commit}:${this.gitPath(name)}`
    return (await this.repo.resolveMany([spec])).get(spec) ?? null
  }

  /**
   * What a checkout from `from` to HEAD (`theirs`, its version) left in the file, when the disk (`text`) holds
   * more than that: git writes exactly the commit's version or, with `-m`, the uncommitted changes (`before`, the
   * file's last text, against `from`'s version) merged into it — anything else is an edit the person made right
   * after, within the git watch's quiet period. Read as git's merge, the live text was written over it and the
   * edit lost (stop 31, open after 51108df). Null: the disk is git's result, or git's result cannot be told (the
   * uncommitted changes collide with the commit's: git's merge is not ours to redo).
   */
  async checkedOut(name: string, from: string | null | undefined, before: string | null, theirs: string, text: string | null): Promise<string | null> {
    if (text === null || text === theirs || !from) return null
    const old = await this.textAt(from, name)
    const left = old === null || before === null ? theirs : await mergeClean(old, before, theirs)
    return left === null || left === text ? null : left
  }

  /**
   * The person's edit over what a checkout left (`left`, see checkedOut; `text`: the disk), made on `live`: they
   * had seen the live context before the checkout, so a value they changed that the live context holds newer
   * than the commit's is theirs to change, no race (black-box tester stop 32, finding 1: read as a save made
   * from `left` alone, 'ann and you changed it at once'). Null when more than their values would change.
   */
  async personalEdit(left: string, live: string | null, text: string): Promise<string | null> {
    if (live === null) return null
    const mine = await mergeFileTexts(left, live, text, 'theirs').catch(() => null)
    if (mine === null || !parses(mine)) return null
    const theirs = new Set(diffFlat(flatten(left), flatten(text)).map((c) => c.path))
    return diffFlat(flatten(live), flatten(mine)).every((c) => theirs.has(c.path)) ? mine : null
  }

  /** HEAD's version of `name` (null: HEAD has none). */
  async headText(name: string): Promise<string | null> {
    const oid = this.headBlobs.get(name)
    return oid ? await this.text(oid) : null
  }

  /**
   * Who wrote HEAD's version of `name`: the newest commit that changed it — its sync point's writer when it
   * has one (a ctxsync user: their peer id and name), else its git author and author time. Null: no commit.
   */
  async lastWriter(name: string): Promise<Credit | null> {
    const hash = (await this.repo.tryRaw(['log', '-1', '--format=%H', 'HEAD', '--', this.gitPath(name)]))?.trim()
    return hash ? ((await creditsOf(this.repo, this.gitPath(name), [hash])).get(hash) ?? null) : null
  }

  /** The commits HEAD brought to `name` since the `known` ones, one step each (`gitsteps.ts`). */
  steps(name: string, known: readonly string[]): Promise<Step[]> {
    return this.head ? stepsSince(this.repo, this.head.hash, this.gitPath(name), known) : Promise.resolve([])
  }

  /**
   * Whether the command that moved HEAD from `from` brought `name` (a pull, merge or fast-forward: HEAD
   * moved forward and its version of the file changed on the way).
   */
  async brought(name: string, from: string | null | undefined): Promise<boolean> {
    const now = this.headBlobs.get(name)
    if (!from || !this.head || from === this.head.hash || !now) return false
    const was = await this.blobAt(from, name)
    return was !== now && (await this.repo.isAncestor(from, this.head.hash))
  }

  /**
   * Whether HEAD moved from `from` to a commit not behind it (a pull, merge or rebase: a rebased HEAD does
   * not descend from `from`) and its version of `name` changed on the way.
   */
  async movedOn(name: string, from: string | null | undefined): Promise<boolean> {
    const now = this.headBlobs.get(name)
    if (!from || !this.head || from === this.head.hash || !now) return false
    const was = await this.blobAt(from, name)
    return was !== now && !(await this.repo.isAncestor(this.head.hash, from))
  }

  /** Is `text` at `name` HEAD's version or the index's blob in `staged` (repository paths)? A deletion counts. */
  revertedTo(name: string, text: string | null, staged: Map<string, string>): boolean {
    if (text === null) return true
    const b = this.repo.blobId(text)
    return b === this.headBlobs.get(name) || b === staged.get(this.gitPath(name))
  }

  history(): Promise<CommitInfo[]> {
    this.historyP ??= this.head ? this.repo.history(this.head.hash, HISTORY_MAX) : Promise.resolve([])
    return this.historyP
  }

  private points(): Promise<Map<string, SyncPoint[]>> {
    this.pointsP ??= (async () => {
      const index = await noteIndex(this.repo)
      if (index.size === 0) return new Map()
      return syncPointsOf(this.repo, (await this.history()).map((c) => c.hash), index)
    })()
    return this.pointsP
  }

  /** The file's blob in each commit of the walked history (null: absent). One batch per file. */
  private blobs(name: string): Promise<Map<string, string | null>> {
    let p = this.blobsOf.get(name)
    if (!p) {
      p = this.history().then(async (h) => {
        const spec = (c: CommitInfo) => `${c.hash}:${this.gitPath(name)}`
        const r = await this.repo.resolveMany(h.map(spec))
        return new Map(h.map((c) => [c.hash, r.get(spec(c)) ?? null]))
      })
      this.blobsOf.set(name, p)
    }
    return p
  }

  text(oid: string): Promise<string | null> {
    let p = this.texts.get(oid)
    if (!p) this.texts.set(oid, (p = this.repo.readBlob(oid)))
    return p
  }

  /** Whether the CRDT of `e` knows the content `name` has in `commit` (blob `oid`). */
  private async knownAt(e: TrackedFile, name: string, commit: string, oid: string): Promise<boolean> {
    const pts = (await this.points()).get(commit) ?? []
    const key = this.gitPath(name)
    if (pts.some((p) => p.files[key]?.b === oid && p.files[key]?.sv)) return true
    const text = await this.text(oid)
    return text !== null && knownText(e, text)
  }

  /** Is the text git put at `name` (HEAD's version) known? */
  async knownHead(e: TrackedFile, name: string, text: string): Promise<boolean> {
    if (knownText(e, text)) return true
    const head = this.head
    if (!head) return false
    const oid = this.repo.blobId(text)
    if (this.headBlobs.get(name) !== oid) return false
    if (await this.knownAt(e, name, head.hash, oid)) return true
    if (head.parents.length < 2) return false
    const blobs = await this.blobs(name)
    for (const p of head.parents) {
      const b = blobs.get(p)
      if (!b || !(await this.knownAt(e, name, p, b))) return false
    }
    return true
  }

  /**
   * The versions `name` had in the walked history that others had too (HEAD's first, then older commits'),
   * distinct, at most `max`: what a member joining from this checkout may have started from (`join.ts`).
   * What the member made itself is its edit, never a base: neither a staged change nor a commit no
   * remote-tracking branch holds (committed or staged before the join, it was lost: black-box tester).
   */
  async versions(name: string, max = VERSIONS_MAX): Promise<string[]> {
    const oids = new Set<string>()
    const own = this.head ? await this.repo.unpushed(this.head.hash, HISTORY_MAX) : new Set<string>()
    for (const [commit, oid] of await this.blobs(name)) {
      if (oids.size >= max) break
      if (oid && !own.has(commit)) oids.add(oid)
    }
    const out: string[] = []
    for (const oid of oids) {
      const t = await this.text(oid)
      if (t !== null) out.push(t)
    }
    return out
  }

  /** Known versions of `name` nearest to HEAD on every path back (HEAD itself excluded), in walk order. */
  async frontier(e: TrackedFile, name: string): Promise<Array<{ commit: string; text: string | null }>> {
    const [hist, blobs] = await Promise.all([this.history(), this.blobs(name)])
    const byId = new Map(hist.map((c) => [c.hash, c]))
    const out: Array<{ commit: string; text: string | null }> = []
    const seen = new Set<string>()
    const queue = [...(this.head?.parents ?? [])]
    while (queue.length && out.length < FRONTIER_MAX) {
      const c = queue.shift()!
      if (seen.has(c)) continue
      seen.add(c)
      const oid = blobs.get(c)
      if (oid === undefined) continue // beyond the walked history
      if (oid === null) {
        // The file did not exist there; its absence is known only if the CRDT has never held it.
        out.push({ commit: c, text: null })
        continue
      }
      if (await this.knownAt(e, name, c, oid)) out.push({ commit: c, text: await this.text(oid) })
      else queue.push(...(byId.get(c)?.parents ?? []))
    }
    return out
  }
}

export function knownText(e: TrackedFile, text: string): boolean {
  const h = sha256hex(text)
  return e.hasSeen(h) || e.model.gitMarked(h)
}

/** Lines that differ between two texts (capped: beyond the cap they are simply far apart). */
export function lineDistance(a: string, b: string): number {
  if (a === b) return 0
  const la = a.split('\n')
  const lb = b.split('\n')
  const cap = 2000
  const parts = diffArrays(la, lb, { maxEditLength: cap } as never) as Array<{ added?: boolean; removed?: boolean; count?: number; value: string[] }> | undefined
  if (!parts) return cap + Math.abs(la.length - lb.length) + Math.max(la.length, lb.length)
  return parts.reduce((n, p) => n + (p.added || p.removed ? (p.count ?? p.value.length) : 0), 0)
}

/** The candidate nearest to `text`; earlier candidates win ties. */
export function nearest(candidates: readonly string[], text: string): string | null {
  let best: string | null = null
  let bestD = Infinity
  for (const c of candidates) {
    const d = lineDistance(c, text)
    if (d < bestD) {
      best = c
      bestD = d
    }
  }
  return best
}

/**
 * The live text with the commit's changes (base → text) merged in. `git merge-file` first: it takes a
 * change made on both sides once, which is exactly "content the CRDT already holds makes no new
 * operations". When lines collide, the CRDT merge decides (it never leaves markers).
 */
/**
 * `base`→`text` merged into `live` only where lines do not collide (git merge-file), else null: a pull's
 * step (gitsteps.ts) that collides with the live context is left to HEAD's version, which holds what the
 * merge made of the collision: merged as a step, its value overrode the merge's (merge-records e2e).
 */
export async function mergeClean(base: string, live: string, text: string): Promise<string | null> {
  if (base === text || live === text) return live
  if (base === live) return text
  const byGit = await mergeFileTexts(base, live, text).catch(() => null)
  return byGit !== null && parses(byGit) ? byGit : null
}

export async function mergeTexts(rules: Rules, name: string, base: string, live: string, text: string): Promise<string> {
  if (base === text || live === text) return live
  if (base === live) return text
  const byGit = await mergeFileTexts(base, live, text).catch(() => null)
  if (byGit !== null && parses(byGit)) return byGit
  const r = merge3(base, live, text, { name, rules })
  r.model.destroy()
  return r.text ?? text
}

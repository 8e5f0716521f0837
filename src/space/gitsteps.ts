/**
 * The commits a pull brought, one step each, so that every value is credited to the commit that wrote it.
 * Taken in as one change with the newest commit's author, a merge credited its author with every value the
 * teammate's commits brought, and a fast-forward of several teammates' commits the newest one's author with
 * all of them (issue 16, black-box tester: "every item from dan blamed on bob, who pulled").
 *
 * A step is a commit that changed the file and is not a merge: its parent's version and its own, so its
 * change alone is merged into the live context (`gitingest.ts`). A merge's own part (a resolution) is what
 * is left once its sides' steps are in: taken in by the last step, HEAD's version, as its author's. A step
 * whose lines collide with the live context is skipped (gitingest.ts): its values come with HEAD's version.
 * Every peer that pulls the same commits lists the same steps (git's order, `--topo-order`).
 */
import type { Credit } from '../crdt/schema.js'
import { syncPointsOf } from '../git/notes.js'
import type { Repo } from '../git/repo.js'

/** More commits than this are taken in as one change, the newest writer's (each step merges the whole file). */
export const STEPS_MAX = 16

export interface Step {
  commit: string
  /** The parent's version (null: the commit created the file) and the commit's. */
  base: string | null
  text: string
  credit: Credit
}

/**
 * Non-merge commits that changed `gitPath`, reachable from HEAD but from none of `known` (commits whose
 * version the live context holds), oldest first, HEAD itself left out; [] when there are more than STEPS_MAX,
 * or when a commit deleted the file (the last step's text stands for the rest).
 */
export async function stepsSince(repo: Repo, head: string, gitPath: string, known: readonly string[]): Promise<Step[]> {
  if (known.length === 0) return []
  const r = await repo.tryRaw(['rev-list', '--reverse', '--topo-order', '--no-merges', `--max-count=${STEPS_MAX + 1}`, head, ...known.map((k) => `^${k}`), '--', gitPath])
  const commits = (r ?? '').split('\n').filter((c) => c !== '' && c !== head)
  if (commits.length === 0 || commits.length > STEPS_MAX) return []
  const spec = (c: string, parent: boolean) => `${c}${parent ? '^' : ''}:${gitPath}`
  const oids = await repo.resolveMany(commits.flatMap((c) => [spec(c, true), spec(c, false)]))
  const blobs = await repo.readBlobs([...oids.values()].filter((o): o is string => o !== null))
  const credits = await creditsOf(repo, gitPath, commits)
  const out: Step[] = []
  for (const c of commits) {
    const b = oids.get(spec(c, true))
    const t = oids.get(spec(c, false))
    const text = t ? blobs.get(t) : undefined
    if (text === undefined || !credits.has(c)) return []
    out.push({ commit: c, base: b ? (blobs.get(b) ?? null) : null, text, credit: credits.get(c)! })
  }
  return out
}

/**
 * Who wrote each commit's version of `gitPath`: its sync point's writer when it has one (a ctxsync user:
 * their peer id and name), else its git author and author time.
 */
export async function creditsOf(repo: Repo, gitPath: string, commits: readonly string[]): Promise<Map<string, Credit>> {
  const out = new Map<string, Credit>()
  if (commits.length === 0) return out
  const r = await repo.tryRaw(['log', '--no-walk=unsorted', '--format=%H%x00%an%x00%ae%x00%at', ...commits])
  const pts = await syncPointsOf(repo, commits).catch(() => null)
  for (const line of (r ?? '').split('\n')) {
    const [hash, author, email, at] = line.split('\0')
    if (!hash || !at) continue
    const p = pts?.get(hash)?.find((x) => x.files[gitPath] && x.peer && x.by)
    out.set(hash, p
      ? [p.peer.slice(0, 128), p.by.slice(0, 200), 'human', Math.floor(Date.parse(p.at) / 1000) || Number(at)]
      : [`git:${email ?? author}`.slice(0, 128), (author ?? '').slice(0, 200), 'human', Number(at)])
  }
  return out
}

/**
 * The merge driver applying an autostash over commits the live context had already superseded (black-box
 * tester stop 32, finding 3): a joiner on an old clone runs `git pull`; the autostash (the live Y) meets
 * HEAD, dan's commit, which carries ann's older X (committed before bob set Y live). Against the stash's base
 * both sides changed the value, and the driver recorded "dan and bob changed it at once" on every peer.
 *
 * As for a checkout (`gitsupersede.ts`): the commits' own steps from the stash's base to HEAD, HEAD's own
 * change too, are split by hunks; lines colliding with the stash's text whose every value the live CRDT held
 * as the commit has it (written live by the commit's writer) and replaced since, after the commit, were
 * superseded — the merge's base moves past them, so the live value stands with no record. A live value that
 * never saw the commit's (a teammate's offline commit, then a live edit) stays a race, recorded: 17aab64 judged
 * by time alone and lost that record (e2e history-merge-resolve; reverted in 83460f6).
 */
import { FileDocStore } from '../fs/sidecar.js'
import { asDocName } from '../ids.js'
import { FileModel } from '../crdt/model.js'
import { compileRules } from '../crdt/rules.js'
import { Repo } from '../git/repo.js'
import { sideSources } from '../git/sides.js'
import { readTeamConfig } from './config.js'
import { mergeClean } from './gitbase.js'
import { creditsOf, stepsSince } from './gitsteps.js'
import { supersededSplit } from './gitsupersede.js'
import { spacePaths } from './paths.js'

export interface SupersedeJob {
  base: string
  ours: string
  theirs: string
  name: string
  root: string
  git: { cwd: string; path: string; env: Record<string, string> }
}

/** The merge's base moved past what the live context superseded, or `base` itself. */
export async function supersededBase(job: SupersedeJob): Promise<string> {
  const repo = await Repo.open(job.git.cwd).catch(() => null)
  if (!repo) return job.base
  const [ours, theirs] = await sideSources(repo, job.git.path, [job.ours, job.theirs], job.git.env).catch(() => [null, null])
  if (!theirs?.stash || ours?.stash) return job.base
  const from = (await repo.tryRaw(['rev-parse', '-q', '--verify', `${theirs.commit}^1`]))?.trim()
  const head = await repo.head()
  if (!from || !head || from === head) return job.base
  const spec = `${from}:${job.git.path}`
  if ((await repo.resolveMany([spec])).get(spec) !== repo.blobId(job.base)) return job.base
  const info = await repo.commit(head)
  if (!info) return job.base
  const parent = info.parents.length === 1 ? info.parents[0]! : null
  const ps = parent ? `${parent}:${job.git.path}` : null
  const pOid = ps ? (await repo.resolveMany([ps])).get(ps) : null
  const pText = pOid ? await repo.readBlob(pOid) : null
  const own = pText !== null && repo.blobId(job.ours) !== pOid
  const steps = [
    ...(await stepsSince(repo, head, job.git.path, [from])).map((s) => ({ base: s.base, text: s.text, time: s.credit[3], by: s.credit })),
    ...(own ? [{ base: pText, text: job.ours, time: info.time, by: (await creditsOf(repo, job.git.path, [head])).get(head) ?? null }] : []),
  ]
  if (steps.length === 0) return job.base
  const paths = spacePaths(job.root)
  const rules = compileRules(job.name, (await readTeamConfig(paths.config).catch(() => null))?.rules ?? [])
  const store = new FileDocStore({ dir: paths.docs })
  const model = new FileModel({ name: job.name, author: { id: 'merge:live', name: 'live', kind: 'human' }, rules })
  try {
    const d = await store.load(asDocName(job.name)).catch(() => null)
    if (!d) return job.base
    model.load(d.updates)
    let past = job.base
    for (const s of steps) {
      if (s.base === null || (await mergeClean(s.base, job.theirs, s.text)) !== null) continue
      const split = await supersededSplit(model, s.base, s.text, job.theirs, s.time, s.by)
      if (split) past = (await mergeClean(s.base, past, split.old)) ?? past
    }
    return past
  } finally {
    model.destroy()
    await store.close().catch(() => undefined)
  }
}

/**
 * The merge driver's work on three texts, as plain data in and out, so that it can run on a worker thread
 * under a time budget (`mergebudget.ts`) as well as inline.
 *
 * Items one side changed merge line for line; the CRDT merges only what both changed (fast on big files).
 * A shape the region merge does not follow goes through the CRDT whole. The result carries the merged text,
 * the number of conflicts and, when they are to be kept for `ctxsync resolve`, the merged parts' state.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import type { Author } from '../crdt/model.js'
import type { Merge3Options } from '../crdt/merge/merge3.js'
import type { MergePart, StoredPart } from './mergestore.js'
import type { SideSource } from '../git/sides.js'
import { spacePaths } from './paths.js'
import { sha256hex } from '../ids.js'
import { mergeByRegions, RegionTooLarge } from '../crdt/merge/regionmerge.js'

export interface MergeJob {
  base: string
  ours: string
  theirs: string
  /** The file's name in the space (rules are chosen by it). */
  name: string
  /** The space's root, or null outside an initialised clone. */
  root: string | null
  /**
   * Where git runs the merge and the file's path in the repository (%P): each side's author and time are
   * looked up there (`git/sides.ts`), and only when a value goes through the CRDT. Null: unknown sides.
   */
  git: { cwd: string; path: string; env: Record<string, string> } | null
  /**
   * When each side wrote (seconds), instead of git's or now: the later side wins a value both changed, or an
   * item one deleted and the other edited. `ctxsync undo` makes the file as it is now the later side, so
   * what others changed since survives the revert.
   */
  times?: [number, number]
  /** Keep conflict records for `resolve` (the merge driver's); false: the caller says what it kept. */
  records?: boolean
  /**
   * Merge the whole file through the CRDT, never region by region: there an item deleted on one side and
   * edited on the other stays with the edit (the region merge left it out and counted a conflict, which
   * only the merge driver's records could bring back).
   */
  whole?: boolean
}

export type MergeOutcome =
  | { kind: 'merged'; text: string; conflicts: number; keep: StoredPart[] | null; held?: boolean; seen?: number; carried?: boolean }
  | { kind: 'fallback'; why: string }

/**
 * Thrown (with `inlineLimit`) when the merge would give the CRDT more than that many characters at once:
 * the caller runs the job again on a worker thread under a time budget.
 */
export class NeedsBudget extends Error {}

export async function runMergeJob(job: MergeJob, inlineLimit?: number): Promise<MergeOutcome> {
  const { ours: a, theirs: t } = job
  // An autostash over commits whose values the live context held and replaced since: the base moves past them
  // (mergesupersede.ts; by what the live values were written over, not by time: a real race keeps its record).
  const b = job.base === '' ? addAddBase(a, t) : job.git && job.root && job.records !== false ? await (await import('./mergesupersede.js')).supersededBase({ ...job, root: job.root, git: job.git }).catch(() => job.base) : job.base
  const paths = job.root ? spacePaths(job.root) : null
  // Loaded only when something has to go through the CRDT (see crdt/merge/regionmerge.ts): most merges never do.
  let opts: Promise<Merge3Options & { me: Author | null; stash: Author | null }> | null = null
  const options = () => (opts ??= mergeOptions(paths, job))
  let r: { text: string | null; conflicts: unknown[]; parts: MergePart[] }
  try {
    const byRegion = job.whole ? null : await mergeByRegions(b, a, t, options, { maxCrdtChars: inlineLimit })
    if (byRegion) r = { ...byRegion, parts: byRegion.regions.map((x) => ({ ...x, whole: false })) }
    else {
      if (inlineLimit !== undefined && Math.max(b.length, a.length, t.length) > inlineLimit) throw new NeedsBudget()
      const { merge3 } = await import('../crdt/merge/merge3.js')
      const m = merge3(b, a, t, await options())
      r = { text: m.text, conflicts: m.conflicts, parts: [{ whole: true, wrapper: null, text: m.text ?? '', model: m.model }] }
    }
  } catch (e) {
    if (e instanceof RegionTooLarge) throw new NeedsBudget()
    const { YamlSyntaxError, RefusedFileError } = await import('../crdt/parse.js')
    if (e instanceof YamlSyntaxError) return { kind: 'fallback', why: `${await which(b, a, t)} is not valid YAML (line ${e.line}, column ${e.col}: ${e.reason})` }
    if (e instanceof RefusedFileError) return { kind: 'fallback', why: `${await which(b, a, t)} cannot be merged as YAML: ${e.reason}` }
    throw e
  }
  try {
    const out = await outcome(job, r, paths, options)
    // An autostash applied: what it held, for the daemon that takes this text in (mergestash.ts).
    if (out.kind === 'merged' && paths && job.git && job.records !== false) await noteStash(paths, job, out.text).catch(() => undefined)
    return out
  } finally {
    for (const p of r.parts) p.model.destroy()
  }
}

async function noteStash(paths: ReturnType<typeof spacePaths>, job: MergeJob, text: string): Promise<void> {
  const [{ Repo }, { autostashSide, noteAutostash }] = await Promise.all([import('../git/repo.js'), import('./mergestash.js')])
  const repo = await Repo.open(job.git!.cwd).catch(() => null)
  const stash = repo && (await autostashSide(repo, job.git!.path, job.theirs))
  if (stash) await noteAutostash(paths, job.name, text, stash)
}

async function outcome(job: MergeJob, r: { text: string | null; conflicts: unknown[]; parts: MergePart[] }, paths: ReturnType<typeof spacePaths> | null, options: () => Promise<Merge3Options & { me: Author | null; stash: Author | null }>): Promise<MergeOutcome> {
  const record = job.records !== false && paths && r.conflicts.length && (await options()).me
  // Both sides already the live context's (a commit made before a resolution, merged after it): what they
  // conflict on was decided there, and a record would open it again (mergeknown.ts).
  // The merged text is the live context's then: the merge's pick among superseded values is no one's.
  if (record && paths && (await heldLive(paths.docs, job))) {
    return { kind: 'merged', text: (await liveText(paths.docs, job, options)) ?? r.text ?? '', conflicts: r.conflicts.length, keep: null, held: true }
  }
  // An autostash applied over what git brought, both the live context's: the work tree is its text too.
  // Git's merge of the two brought back what the live context removed since (an item deleted live after a
  // peer committed it), and the daemon read that as this clone's edit (black-box tester, stop 29, finding 4).
  if (!r.conflicts.length && paths && job.records !== false && (await autostashApplied(job)) && (await heldLive(paths.docs, job))) {
    const live = await liveText(paths.docs, job, options)
    if (live !== null) return { kind: 'merged', text: live, conflicts: 0, keep: null }
  }
  // `git checkout -m` / `switch -m`: the daemon keeps no record of it (mergeadopt.ts), so none is made here,
  // and the driver says so instead of promising one to `resolve --list` that never shows.
  if (record && (await checkoutMerge(job))) return { kind: 'merged', text: r.text ?? '', conflicts: r.conflicts.length, keep: null, carried: true }
  const keep = record ? r.parts.map((await import('./mergestore.js')).storePart) : null
  if (keep) for (const k of keep) k.sides = [sha256hex(job.ours), sha256hex(job.theirs)]
  if (keep && paths) await creditStash(paths, job.name, await options(), r.parts, keep)
  const seen = keep && paths ? await seenHere(paths.state, job.name, r.parts) : 0
  return { kind: 'merged', text: r.text ?? '', conflicts: r.conflicts.length, keep, seen }
}

async function checkoutMerge(job: MergeJob): Promise<boolean> {
  if (!job.git) return false
  const [{ checkoutMerging }, { Repo }] = await Promise.all([import('./mergeseen.js'), import('../git/repo.js')])
  const repo = await Repo.open(job.git.cwd).catch(() => null)
  return repo ? checkoutMerging(repo, job.git.path, job.base, job.ours).catch(() => false) : false
}

async function liveText(docs: string, job: MergeJob, options: () => Promise<Merge3Options>): Promise<string | null> {
  const { liveRendering } = await import('./mergeknown.js')
  return liveRendering(docs, job.name, (await options()).rules).catch(() => null)
}

/**
 * Whether one side is the autostash a pull, merge or rebase is applying (`git/sides.ts`): the merge writes the
 * work tree only. Not a plain `git stash pop`: under a stash hold (stashhold.ts) the daemon expects git's
 * merge of the stash into the staged edits, and unstages them after it.
 */
async function autostashApplied(job: MergeJob): Promise<boolean> {
  const stash = (await sides(job)).find((s) => s?.stash === true)
  if (!stash || !job.git) return false
  const { Repo } = await import('../git/repo.js')
  const repo = await Repo.open(job.git.cwd).catch(() => null)
  if (!repo) return false
  const refs = ['MERGE_AUTOSTASH', path.join('rebase-merge', 'autostash'), path.join('rebase-apply', 'autostash')]
  const oids = await Promise.all(refs.map((f) => fsp.readFile(path.join(repo.gitDir, f), 'utf8').then((t) => t.trim(), () => null)))
  return oids.includes(stash.commit)
}

async function heldLive(docs: string, job: MergeJob): Promise<boolean> {
  const [{ liveHolds }, { Repo }] = await Promise.all([import('./mergeknown.js'), import('../git/repo.js')])
  const repo = job.git ? await Repo.open(job.git.cwd).catch(() => null) : null
  const held = await liveHolds(docs, job.name, [job.ours, job.theirs], repo && job.git ? { repo, path: job.git.path } : null).catch(() => [false])
  return held.every(Boolean)
}

/**
 * How many of the merge's value conflicts the live context held in turn before it (`mergeseen.ts`): the
 * daemon drops those records when it takes the merge in, so the driver's message must not send anyone to
 * `resolve --list` for them (issue 15 item 5: "3 value(s) changed on both sides", and nothing listed).
 */
async function seenHere(state: string, name: string, parts: MergePart[]): Promise<number> {
  const [{ heldBefore, seenInOrder }, { mergeEntries }] = await Promise.all([import('./mergeseen.js'), import('../crdt/merge/place.js')])
  const held = await heldBefore(state, name, Date.now()).catch(() => null)
  if (!held) return 0
  return parts.reduce((n, p) => n + mergeEntries(p.model).filter((e) => seenInOrder(held, e)).length, 0)
}

/** A stashed side's values that are the live context's carry their writers and times (`stashtime.ts`). */
async function creditStash(paths: ReturnType<typeof spacePaths>, name: string, o: Merge3Options & { stash: Author | null }, parts: MergePart[], keep: StoredPart[]): Promise<void> {
  const stash = o.stash
  if (!stash) return
  const [{ mergeEntries }, { liveCredits }] = await Promise.all([import('../crdt/merge/place.js'), import('./stashtime.js')])
  for (const [i, p] of parts.entries()) {
    const wants = mergeEntries(p.model).flatMap((e) => e.values.filter((v) => v.author.id === stash.id && v.author.name === stash.name).map((v) => ({ path: e.path, desc: v.desc })))
    const credits = await liveCredits(paths.docs, name, o.rules, wants).catch(() => [])
    if (credits.length) keep[i]!.credits = credits
  }
}

/**
 * The space's rules, this peer (null outside an initialised clone: then nothing is kept for `resolve`), and
 * each side's author and time: the commits' (`git/sides.ts`); this peer for its own stashed work; otherwise
 * an author said to be unknown, writing at the merge's time.
 */
async function mergeOptions(paths: ReturnType<typeof spacePaths> | null, job: MergeJob): Promise<Merge3Options & { me: Author | null; stash: Author | null }> {
  const name = job.name
  const { compileRules } = await import('../crdt/rules.js')
  let rules: Parameters<typeof compileRules>[1] = []
  let me: Author | null = null
  if (paths) {
    const [{ readLocalSettings, readTeamConfig, DEFAULT_HOST, DEFAULT_PORT }, { readIdentity }] = await Promise.all([
      import('./config.js'), import('./secrets.js'),
    ])
    rules = (await readTeamConfig(paths.config).catch(() => null))?.rules ?? []
    const identity = await readIdentity(paths.identity).catch(() => null)
    const local = await readLocalSettings(paths.local, { name: 'ours', agent: false, host: DEFAULT_HOST, port: DEFAULT_PORT, peers: [] }).catch(() => null)
    if (identity && local) me = { id: identity.id, name: local.name, kind: local.agent ? 'agent' : 'human' }
  }
  const [ours, theirs] = await sides(job)
  const now = Math.floor(Date.now() / 1000)
  // A stashed side that is the live context as last synced here dates from then, not from the stash.
  if (paths) {
    const { liveTextTime } = await import('./stashtime.js')
    for (const [s, text] of [[ours, job.ours], [theirs, job.theirs]] as const) {
      const t = s?.stash ? await liveTextTime(paths.docs, name, text).catch(() => null) : null
      if (s && t !== null && t < s.time) s.time = t
    }
  }
  if (!job.times) await breakTie(job, ours, theirs).catch(() => undefined)
  const author = (s: SideSource | null, fallback: Author): Author =>
    s === null ? fallback : s.stash && me ? me : { id: s.id, name: s.name, kind: 'human' }
  // A side no commit, sync point or stash identifies is said to be of an unknown author: not this peer (in
  // a rebase's pick "ours" is upstream's, not this clone's work), and never a placeholder word.
  const { UNKNOWN_OURS, UNKNOWN_THEIRS, UNKNOWN_OTHER } = await import('../crdt/merge/merge3.js')
  return {
    name, rules: compileRules(name, rules), me, stash: (ours?.stash || theirs?.stash) && me ? me : null,
    ours: author(ours, UNKNOWN_OURS),
    theirs: author(theirs, ours === null ? UNKNOWN_THEIRS : UNKNOWN_OTHER),
    times: job.times ?? [ours?.time ?? now, theirs?.time ?? now],
  }
}

/**
 * Commit times are whole seconds: two commits of one value made within a second tied, and the tie went by
 * client id — a teammate's older value could win over a ctxsync user's later one, git then dropped the
 * user's pick as empty, and the later edit was lost (issue 15). A side whose commit has a sync point for
 * this very text (a ctxsync user: `git/notes.ts`) knows when it was recorded to the millisecond; a side
 * without one counts as the start of its second. Within the tie the times keep their order, mapped into
 * that second (each commit's own second stays what records and `history` show).
 */
async function breakTie(job: MergeJob, ours: SideSource | null, theirs: SideSource | null): Promise<void> {
  if (!ours || !theirs || ours.time !== theirs.time || !job.git) return
  const [{ Repo }, { NOTES_REF, parseNote }] = await Promise.all([import('../git/repo.js'), import('../git/notes.js')])
  const repo = await Repo.open(job.git.cwd).catch(() => null)
  if (!repo) return
  const gitPath = job.git.path
  const fine = async (s: SideSource, text: string): Promise<number> => {
    if (s.stash) return s.time
    const blob = repo.blobId(text)
    const p = parseNote((await repo.tryRaw(['notes', `--ref=${NOTES_REF}`, 'show', s.commit])) ?? '').filter((x) => x.files[gitPath]?.b === blob)[0]
    const at = p ? Date.parse(p.at) / 1000 : NaN
    return Number.isFinite(at) && at >= s.time ? at : s.time
  }
  const t = ours.time
  const [a, b] = await Promise.all([fine(ours, job.ours), fine(theirs, job.theirs)])
  // Monotone from [t, ∞) into [t, t + 1): the order within the tie, still inside the commits' second.
  const squash = (x: number) => t + (0.999 * (x - t)) / (1 + (x - t))
  ours.time = squash(a)
  theirs.time = squash(b)
}

async function sides(job: MergeJob): Promise<Array<SideSource | null>> {
  if (!job.git) return [null, null]
  const [{ Repo }, { sideSources }] = await Promise.all([import('../git/repo.js'), import('../git/sides.js')])
  const repo = await Repo.open(job.git.cwd).catch(() => null)
  if (!repo) return [null, null]
  return sideSources(repo, job.git.path, [job.ours, job.theirs], job.git.env).catch(() => [null, null])
}

/**
 * Both sides added the file (git gives an empty base): the usual case beside the live context is one text
 * that grew from the other — a clone had a peer's new file staged (`space/gitstage.ts`), the peer committed
 * an earlier version and edited on. Against an empty base every item would count as added twice, and items
 * without identity would appear twice; a side whose lines the other holds in order is taken as the base.
 */
export function addAddBase(a: string, t: string): string {
  const within = (x: string, y: string): boolean => {
    const ys = y.split('\n')
    let i = 0
    for (const line of x.split('\n')) {
      while (i < ys.length && ys[i] !== line) i++
      if (i++ >= ys.length) return false
    }
    return true
  }
  return within(a, t) ? a : within(t, a) ? t : ''
}

/** Which version failed to parse, for the message (the first one the model could not take in). */
async function which(base: string, ours: string, theirs: string): Promise<string> {
  const { parses } = await import('../crdt/parse.js')
  const bad = (t: string) => !parses(t)
  return bad(ours) ? 'our version' : bad(theirs) ? 'their version' : bad(base) ? 'the common ancestor' : 'a version'
}

export const jobName = (root: string | null, abs: string, given: string): string =>
  root ? path.relative(root, abs).split(path.sep).join('/') : given

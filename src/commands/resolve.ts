/**
 * `ctxsync resolve`: list conflicts (`--list`), or pick the value that stays (`ID --take N|ours|theirs`,
 * `--all --take ours`). A resolution is a change like any other: it syncs, and clears the conflict on
 * every peer. With a running daemon, the daemon applies it.
 */
import { CtxError, UsageError } from '../errors.js'
import {
  connect, daemonClient, findRoot, loadMergeStore, loadSetup, loadTakeRules, spacePaths,
  type Conflict, type ResolveChoice, type SpacePaths, type Take,
} from '../space/index.js'

export type { Conflict, ResolveChoice, Take }

export interface ResolveOptions {
  cwd: string
  warn?: (msg: string) => void
}

export async function listConflicts(o: ResolveOptions): Promise<{ conflicts: Conflict[] }> {
  // This clone's records first: one the daemon takes over meanwhile is then in one list or both (the same id
  // where it has identities), never in neither.
  const merges = (await (await mergeStore(o.cwd, o.warn))?.list()) ?? []
  const live = await liveConflicts(o)
  const ids = new Set(live.conflicts.map((c) => c.id))
  return { conflicts: [...live.conflicts, ...merges.filter((c) => !ids.has(c.id))] }
}

/** Conflicts the merge driver kept (`space/mergestore.ts`), and how to resolve them; null outside a space. */
async function mergeStore(cwd: string, warn: (m: string) => void = () => {}) {
  const root = findRoot(cwd)
  if (!root) return null
  const paths = spacePaths(root)
  const { readIdentity, readLocalSettings, readTeamConfig, DEFAULT_HOST, DEFAULT_PORT } = await loadSetup()
  const rules = (await readTeamConfig(paths.config).catch(() => null))?.rules ?? []
  return {
    paths,
    // Listing forgets what turned moot (the value changed since the merge), saying why (warn).
    list: async () => (await loadMergeStore()).mergeConflicts(paths, rules, { drop: true, warn }),
    resolve: async (c: ResolveChoice) => {
      const [identity, local] = await Promise.all([readIdentity(paths.identity), readLocalSettings(paths.local, { name: 'me', agent: false, host: DEFAULT_HOST, port: DEFAULT_PORT, peers: [] })])
      return (await loadMergeStore()).resolveMerge(paths, rules, c.id, c.take, { id: identity?.id ?? 'me', name: local.name, kind: local.agent ? 'agent' : 'human' })
    },
  }
}

async function liveConflicts(o: ResolveOptions): Promise<{ conflicts: Conflict[] }> {
  const client = await connect(o.cwd, { command: 'ctxsync resolve', lock: 'read', warn: o.warn })
  try {
    return await client.conflicts()
  } finally {
    await client.close()
  }
}

/** Applies choices in order; returns the conflicts as they were before each was resolved. */
export async function resolve(o: ResolveOptions & { choices: ResolveChoice[] }): Promise<{ resolved: Conflict[] }> {
  return { resolved: (await resolveChoices(o)).resolved }
}

/** `resolve`, and the choices as applied: a record's id is the live conflict's once the daemon took it over. */
async function resolveChoices(o: ResolveOptions & { choices: ResolveChoice[] }): Promise<{ resolved: Conflict[]; choices: ResolveChoice[] }> {
  const store = await mergeStore(o.cwd, o.warn)
  let records = store ? await store.list() : []
  let choices = o.choices
  const ofRecords = records.filter((r) => choices.some((c) => c.id === r.id))
  if (store && ofRecords.length) await notUnderStash(store.paths, ofRecords, choices)
  if (store && ofRecords.length && (await daemonTookIn(store.paths, ofRecords.map((r) => r.file), o.warn))) {
    // Taken over meanwhile: the live conflict has a new id (moved); dropped: the live context decided it.
    const moved = await (await loadMergeStore()).readMoved(store.paths)
    records = await store.list()
    const left = new Set(records.map((r) => r.id))
    const lives = choices.some((c) => !left.has(c.id) && moved[c.id]) ? (await liveConflicts(o)).conflicts : []
    choices = choices.flatMap((c) => {
      const was = ofRecords.find((r) => r.id === c.id)
      if (left.has(c.id) || !was) return [c]
      if (moved[c.id]) return [{ id: moved[c.id]!, take: liveTake(was, lives.find((x) => x.id === moved[c.id]), c.take) }]
      o.warn?.(`${c.id}: no longer a conflict: the live context took the merge in and holds one value there (the daemon's log says why)`)
      return []
    })
  }
  const mergeIds = new Set(records.map((c) => c.id))
  const live = await resolveLive({ ...o, choices: choices.filter((c) => !mergeIds.has(c.id)) })
  const resolved = [...live.resolved]
  for (const c of choices.filter((x) => mergeIds.has(x.id))) {
    try {
      const r = await store!.resolve(c)
      if (r) resolved.push(r)
    } catch (e) {
      if (e instanceof (await loadTakeRules()).TakeError) throw new CtxError('bad-choice', e.message)
      throw e
    }
  }
  return { resolved, choices }
}

/**
 * A number chosen among a record's values, as the same value's number in the live conflict that took the
 * record over (its values need not be in the record's order); ours/theirs choose by writer either way.
 */
function liveTake(rec: Conflict, live: Conflict | undefined, take: Take): Take {
  if (typeof take !== 'number' || !live) return take
  const v = rec.values[take - 1]
  if (!v) return take
  const same = (w: Conflict['values'][number]) => w.deleted === v.deleted && JSON.stringify(w.value) === JSON.stringify(v.value)
  const k = live.values.findIndex(same)
  if (k < 0) throw new CtxError('bad-choice', `conflict ${live.id} (was ${rec.id}) no longer lists the value chosen: \`ctxsync resolve --list\` shows its values now`)
  return k + 1
}

/**
 * A record of a file `git stash` holds the live context of is not resolved until the pop: the daemon takes
 * nothing in meanwhile, so `resolve` waited its 15 s for nothing, then wrote the choice into git's version on
 * disk — and the plain `git stash pop` right after refused over it ("Your local changes … would be
 * overwritten"), the record came back and the stashed edits stayed in the stash. Said at once instead.
 */
async function notUnderStash(paths: SpacePaths, recs: Conflict[], choices: ResolveChoice[]): Promise<void> {
  const held = await (await loadMergeStore()).stashHeld(paths, recs.map((r) => r.file))
  if (held.length === 0) return
  const again = choices.filter((c) => recs.some((r) => r.id === c.id && held.includes(r.file))).map((c) => `\`ctxsync resolve ${c.id} --take ${c.take}\``)
  throw new CtxError('stash-hold', `\`git stash\` holds the live context of ${held.join(', ')}: a choice written into it now would stop \`git stash pop\`, and the daemon takes nothing in until the pop. Run \`git stash pop\` first, then ${again.join(', ')} again`)
}

/** How long `resolve` waits for the daemon to take in what git wrote before it resolves a record itself. */
const TAKE_IN_WAIT_MS = 15_000

/**
 * A record the merge driver kept is resolved once the running daemon has taken in what git wrote (the
 * merged text) and taken the record over where it does (`mergeadopt.ts`): then the choice is the live
 * context's (a value) or an edit of a file the daemon already holds (a deletion's, resolved on the lines).
 * Resolved before — `resolve` right after `git pull`, while the daemon waited out git — the choice was the
 * CLI's write of a file the daemon had not taken in: the merge's other side never reached the live context
 * and was marked known nowhere, so a later merge with that commit brought the deleted item back on every
 * peer, or listed the chosen value's conflict again (black-box tester, stop 29, finding 4); and a record
 * taken over while the CLI wrote kept its live conflict open, the choice lost. False: no daemon answers,
 * or it did not catch up in time (then the file is written here, as without a daemon).
 */
async function daemonTookIn(paths: SpacePaths, files: string[], warn?: (m: string) => void): Promise<boolean> {
  const d = await daemonClient(paths)
  if (!d) return false
  const { takenIn } = await loadMergeStore()
  const deadline = Date.now() + TAKE_IN_WAIT_MS
  for (;;) {
    try {
      // `wait`: once git is idle and the daemon's take-in of what it did (with the records' adoption) is done.
      if (await takenIn(paths, files, (await d.syncpoint({ wait: true })).states)) return true
    } catch {
      return false
    }
    if (Date.now() > deadline) {
      warn?.(`the daemon has not taken in ${[...new Set(files)].join(', ')} yet: the choice is written to the file here`)
      return false
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function resolveLive(o: ResolveOptions & { choices: ResolveChoice[] }): Promise<{ resolved: Conflict[] }> {
  if (o.choices.length === 0) return { resolved: [] }
  const client = await connect(o.cwd, { command: 'ctxsync resolve', lock: { wait: 10_000 }, warn: o.warn })
  try {
    const resolved: Conflict[] = []
    for (const c of o.choices) resolved.push((await client.resolve(c)).resolved)
    return { resolved }
  } finally {
    await client.close()
  }
}

/** `--all --take X`: one choice per conflict; conflicts X cannot apply to are reported, not guessed. */
export function choicesForAll(conflicts: Conflict[], take: Take, me: string): { choices: ResolveChoice[]; skipped: Array<{ id: string; why: string }> } {
  const choices: ResolveChoice[] = []
  const skipped: Array<{ id: string; why: string }> = []
  for (const c of conflicts) {
    if (typeof take === 'number' && take > c.values.length) skipped.push({ id: c.id, why: `has only ${c.values.length} values` })
    else if (take === 'ours' && !c.values.some((v) => v.author.id === me)) skipped.push({ id: c.id, why: 'no value from this machine' })
    else if (take === 'theirs' && !c.values.some((v) => v.author.id !== me)) skipped.push({ id: c.id, why: 'no value from another peer' })
    else choices.push({ id: c.id, take })
  }
  return { choices, skipped }
}

export function noConflict(id: string): CtxError {
  return new CtxError('no-conflict', `no conflict ${id}: \`ctxsync resolve --list\` shows the current ones`)
}

/** Where the interactive flow talks: the terminal in `cli.ts`, anything in a test. */
export interface ResolveIO {
  /** Whether someone can answer (stdin is a terminal). */
  interactive: boolean
  /** Asks one question; the answer line. */
  ask(question: string): Promise<string>
  out(s: string): void
  err(s: string): void
  json(v: unknown): void
  /**
   * The caller's formats (output.ts `formatConflicts`, visible.ts `visible` in the terminal): passed in, so
   * that this command's bundle chunk does not share the CLI's formatting modules (one more file per start).
   */
  format: { conflicts(cs: Conflict[]): string; text(s: string): string }
}

export interface ResolveFlowOptions extends ResolveOptions {
  id?: string
  list?: boolean
  take?: Take
  all?: boolean
  json?: boolean
}

/**
 * `ctxsync resolve [ID] [--list] [--take X] [--all] [--json]`: lists the conflicts, or resolves one, all,
 * or — in a terminal without --take — each as the user picks (`pick`).
 */
export async function resolveFlow(o: ResolveFlowOptions, io: ResolveIO): Promise<void> {
  const { id } = o
  if (o.all && id) throw new UsageError('give either a conflict id or --all, not both')
  if ((o.all || id) && o.take === undefined && !(io.interactive && id)) throw new UsageError('say which value stays: --take N|ours|theirs')
  // --take alone named no conflict: it listed them silently, as if the choice had been made (issue 17).
  if (o.take !== undefined && !id && !o.all) throw new UsageError(`--take needs the conflict it applies to: \`ctxsync resolve ID --take ${o.take}\` (ids: \`ctxsync resolve --list\`), or --all for every conflict`)
  const { conflicts } = await listConflicts(o)
  if (o.list || (!id && !o.all && !io.interactive)) {
    if (o.json) io.json({ conflicts })
    else io.out(io.format.conflicts(conflicts))
    return
  }
  let choices: ResolveChoice[]
  const me = await myPeerId(o.cwd)
  if (o.all) {
    const r = choicesForAll(conflicts, o.take!, me)
    for (const s of r.skipped) io.err(`skipped ${s.id}: ${io.format.text(s.why)}`)
    choices = r.choices
  } else if (id) {
    // An id `resolve --list` showed before the live context took the merge's record over (a new id there).
    const found = conflicts.some((c) => c.id === id) ? id : await movedId(o.cwd, id)
    if (!found || !conflicts.some((c) => c.id === found)) throw noConflict(id)
    choices = o.take !== undefined ? [{ id: found, take: o.take }] : await pick(conflicts.filter((c) => c.id === found), io)
  } else choices = await pick(conflicts, io)
  const r = await resolveChoices({ ...o, choices })
  if (o.json) io.json({ resolved: r.resolved })
  else {
    const { takeIndex } = await loadTakeRules()
    for (const c of r.resolved) io.out(`resolved ${c.id} (${io.format.text(c.file)} ${io.format.text(c.display)})${keptText(c, r.choices, me, takeIndex, io)}`)
  }
}

/** ": kept done (ann's); …" — which value stays, by number or by side. */
function keptText(c: Conflict, choices: ResolveChoice[], me: string, takeIndex: (c: Conflict, t: Take, me: string) => number, io: ResolveIO): string {
  const take = choices.find((x) => x.id === c.id)?.take
  if (take === undefined) return ''
  // `--take ours|theirs` says which value stayed too (it said only "resolved …": black-box tester).
  let v: Conflict['values'][number] | undefined
  try {
    v = c.values[takeIndex(c, take, me)]
  } catch {
    v = undefined
  }
  if (!v) return ''
  const value = v.deleted ? 'the deletion' : io.format.text(v.raw.replace(/\n\s*/g, ' ').trim())
  return `: kept ${value} (${io.format.text(v.author.name)}'s); every peer gets this choice`
}

async function movedId(cwd: string, id: string): Promise<string | null> {
  const root = findRoot(cwd)
  return root ? ((await (await loadMergeStore()).readMoved(spacePaths(root)))[id] ?? null) : null
}

async function myPeerId(cwd: string): Promise<string> {
  const { status } = await import('./status.js')
  return (await status({ cwd })).peer.id
}

/** The interactive picker: one question per conflict. */
export async function pick(conflicts: Conflict[], io: ResolveIO): Promise<ResolveChoice[]> {
  if (conflicts.length === 0) {
    io.out('no conflicts')
    return []
  }
  const choices: ResolveChoice[] = []
  for (const c of conflicts) {
    io.err(io.format.conflicts([c]).split('\n\n')[0]!)
    for (;;) {
      const a = (await io.ask(`keep which value of ${c.id}? [1-${c.values.length}, Enter = skip, q = quit] `)).trim()
      if (a === '') break
      if (a === 'q') return choices
      const n = Number(a)
      if (Number.isInteger(n) && n >= 1 && n <= c.values.length) {
        choices.push({ id: c.id, take: n })
        break
      }
      // Asked again: say why (it re-prompted in silence: issue 17).
      io.err(`${io.format.text(JSON.stringify(a))} is not one of the choices: a number from 1 to ${c.values.length}, Enter to skip this conflict, q to stop`)
    }
  }
  return choices
}

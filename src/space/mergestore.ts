/**
 * Conflicts found by the merge driver, kept for `resolve` until the live context takes them over.
 *
 * The driver merges three texts in scratch documents of its own (`crdt/merge/merge3.ts`); their node ids are
 * not the live CRDT's. The merged document is kept in `.ctxsync/merges/` (one per file, the latest merge
 * wins unless it merged the previous one's result: `keepMerge`), and each of its value conflicts is found
 * again by its key path (`crdt/merge/place.ts`):
 *  - a space open for writing here (the daemon, `sync`) moves it into the live document once it has taken
 *    in the merged file (`adoptMerges`, `mergeadopt.ts`): a synced record, listed on every peer, resolved
 *    on any of them, like a conflict the live CRDT found — it reaches the peers as the merged value did;
 *  - until then `resolve` applies a choice to the file as it is now (an ordinary local edit);
 *  - a conflict whose place no longer shows the merged value (changed since, chosen by hand, removed) is
 *    moot: it is dropped, and whoever finds it so says why.
 * Delete-versus-edit conflicts are not placed by path: they stay in this clone's record, resolved on the
 * merged lines as before.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { FileModel, type Author, type Conflict, type Take } from '../crdt/model.js'
import { compileRules, type RuleSpec } from '../crdt/rules.js'
import { mergeEntries, placeConflict, setValue, whyDropped, type EntryValue, type MergeEntry, type Placement } from '../crdt/merge/place.js'
import { TakeError } from '../crdt/present.js'
import { CtxError } from '../errors.js'
import { readTextFile, writeFileAtomic } from '../fs/atomic.js'
import type { SpacePaths } from './paths.js'
import type { FileStatus } from './summary.js'
import { hasRecords, mergeRecordFile, mergesDir, type Credit, type MergeRecord, type StoredPart } from './mergefile.js'
import { openPart, resolveOnLines } from './mergelines.js'
export type { Credit, MergeRecord, StoredPart }
export { dropMerge, readMoved } from './mergefile.js'

/** Of `names` (space paths), those a `git stash` entry holds now (stashfile.ts): the daemon takes them in after the pop. */
export async function stashHeld(paths: SpacePaths, names: readonly string[]): Promise<string[]> {
  const [{ Repo }, { heldFiles }] = await Promise.all([import('../git/repo.js'), import('./stashfile.js')])
  const repo = await Repo.open(paths.root).catch(() => null)
  if (!repo) return []
  const held = new Set(await heldFiles(repo, paths.state).catch(() => [] as string[]))
  return [...new Set(names)].filter((n) => held.has(n))
}

/**
 * One merged document: the whole file (`whole`), or a region the region merge merged under its root key
 * (`crdt/merge/regionmerge.ts`) — then `text` is that sub-document, found again in the file by its lines.
 */
export interface MergePart {
  whole: boolean
  wrapper: string | null
  text: string
  model: FileModel
}

export type MergeConflict = Conflict & { source: 'merge' }

/** A part as it is kept: plain data, which can also cross from the merge driver's worker thread. */
export const storePart = (p: MergePart): StoredPart => ({ whole: p.whole, wrapper: p.wrapper, text: p.text, state: Buffer.from(p.model.encodeDiff()).toString('base64') })

export async function saveMerge(paths: SpacePaths, name: string, parts: Array<MergePart | StoredPart>): Promise<void> {
  const rec: MergeRecord = { v: 2, file: name, at: new Date().toISOString(), parts: parts.map((p) => ('model' in p ? storePart(p) : p)) }
  await fs.mkdir(mergesDir(paths), { recursive: true })
  await writeFileAtomic(mergeRecordFile(paths, name), JSON.stringify(rec) + '\n')
}

/** Every record kept, with the file it is in. */
export async function records(paths: SpacePaths): Promise<Array<{ file: string; rec: MergeRecord }>> {
  const names = await fs.readdir(mergesDir(paths)).catch(() => [] as string[])
  const out: Array<{ file: string; rec: MergeRecord }> = []
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    const file = path.join(mergesDir(paths), n)
    try {
      const rec = JSON.parse(await fs.readFile(file, 'utf8')) as MergeRecord
      if (rec.v === 2 && Array.isArray(rec.parts)) out.push({ file, rec })
    } catch {
      // unreadable: a later merge of that file replaces it
    }
  }
  return out
}

const SOMEONE: Author = { id: 'merge:resolver', name: 'resolve', kind: 'human' }
const samePath = (a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>) => a.length === b.length && a.every((x, i) => x === b[i])

/** A record's value conflicts still open (credits applied), and its delete-versus-edit ones. */
export function openEntries(rec: MergeRecord, rules: readonly RuleSpec[]): { entries: MergeEntry[]; deletes: Conflict[] } {
  const done = new Set(rec.done ?? [])
  const entries: MergeEntry[] = []
  const deletes: Conflict[] = []
  for (const part of rec.parts) {
    const m = openPart(rec.file, part, SOMEONE, rules)
    try {
      deletes.push(...m.conflicts().filter((c) => c.kind === 'delete' && !done.has(c.id)))
      for (const e of mergeEntries(m)) if (!done.has(e.id)) entries.push(credited(e, part.credits ?? []))
    } finally {
      m.destroy()
    }
  }
  return { entries, deletes }
}

function credited(e: MergeEntry, credits: Credit[]): MergeEntry {
  const values = e.values.map((v, k) => {
    const c = credits.find((x) => x.desc === v.desc && samePath(x.path, e.path))
    if (!c) return v
    e.conflict.values[k] = { ...e.conflict.values[k]!, author: c.author, at: c.at === 0 ? null : new Date(c.at * 1000).toISOString() }
    return { ...v, author: c.author, at: c.at }
  })
  return { ...e, values }
}

/**
 * Marks conflicts `ids` of the record done; removes the record when nothing is left in it — except, with
 * `chosen` (a `resolve` here), a record with sides: kept, all done, until the daemon's next take-in marks
 * its sides known (`mergeadopt.ts`, which then removes it: `ids` empty, nothing left). Removed at once, a
 * record resolved with no daemon running (the CLI's write of the file) left the merge's other side known
 * nowhere, and a later merge with that commit brought the deleted item back or listed the value again.
 */
export async function markDone(file: string, rec: MergeRecord, ids: string[], left: number, chosen = false): Promise<void> {
  if (ids.length === 0 && left > 0) return
  if (left === 0 && !(chosen && rec.parts.some((p) => p.sides?.length))) return void (await fs.rm(file, { force: true }))
  await writeFileAtomic(file, JSON.stringify({ ...rec, done: [...new Set([...(rec.done ?? []), ...ids])] }) + '\n')
}

/** The file as it is now, as a document (empty when it is missing; null when unreadable or not YAML: nothing to tell). */
async function current(paths: SpacePaths, name: string, rules: readonly RuleSpec[]): Promise<{ text: string | null; model: FileModel | null }> {
  const now = await readTextFile(path.join(paths.root, name), { within: paths.root })
  if (now.kind === 'missing') return { text: null, model: new FileModel({ name, author: SOMEONE, rules: compileRules(name, rules) }) }
  if (now.kind !== 'text') return { text: null, model: null }
  const m = new FileModel({ name, author: SOMEONE, rules: compileRules(name, rules) })
  try {
    m.enroll(now.text)
    return { text: now.text, model: m }
  } catch {
    m.destroy()
    return { text: now.text, model: null }
  }
}

export const droppedLine = (file: string, e: MergeEntry, p: Exclude<Placement, { kind: 'here' }>) =>
  `${file}: dropped the merge conflict ${e.id} (${e.display}): ${whyDropped(p)}, so there is nothing left to choose`

/**
 * The conflicts kept here, each checked against the file as it is now. Those whose place no longer shows
 * the merged value are left out — and, with `drop`, forgotten, with a line to `warn` saying why.
 */
export async function mergeConflicts(paths: SpacePaths, rules: readonly RuleSpec[], o: { drop?: boolean; warn?: (m: string) => void } = {}): Promise<MergeConflict[]> {
  const out: MergeConflict[] = []
  for (const { file, rec } of await records(paths)) {
    const { entries, deletes } = openEntries(rec, rules)
    out.push(...deletes.map((c) => ({ ...c, source: 'merge' as const })))
    if (entries.length === 0) continue
    const cur = await current(paths, rec.file, rules)
    const dropped: string[] = []
    try {
      for (const e of entries) {
        const p = cur.model ? placeConflict(cur.model, e) : ({ kind: 'here' } as const)
        if (p.kind === 'here') out.push({ ...e.conflict, source: 'merge' })
        else if (o.drop) {
          dropped.push(e.id)
          o.warn?.(droppedLine(rec.file, e, p))
        }
      }
    } finally {
      cur.model?.destroy()
    }
    await markDone(file, rec, dropped, entries.length - dropped.length + deletes.length)
  }
  return out
}

/**
 * Conflicts the merge driver kept (a value both sides of a git merge changed) count like live ones: the file
 * is conflicted and `status --check` fails. These are this clone's records not yet taken over by the live
 * context (then they are live conflicts, already counted: `mergeadopt.ts`).
 */
export async function countMergeConflicts(s: { files: FileStatus[]; conflicts: number }, paths: SpacePaths, rules: readonly RuleSpec[]): Promise<void> {
  if (!(await hasRecords(paths))) return
  for (const c of await mergeConflicts(paths, rules).catch(() => [])) {
    const f = s.files.find((x) => x.path === c.file)
    if (f) {
      f.conflicts = (f.conflicts ?? 0) + 1
      if (f.state === 'synced' || f.state === 'pending') f.state = 'conflicted'
    }
    s.conflicts++
  }
}

/**
 * Whether the daemon has taken in what the files of `names` hold now: each one's hash on disk is the one the
 * daemon's state has (`states`, a sync point's). A file it does not list (held, deleted, unknown to it) has
 * nothing to wait for. `resolve` of a record waits for this (commands/resolve.ts).
 */
export async function takenIn(paths: SpacePaths, names: readonly string[], states: Readonly<Record<string, { hash: string }>>): Promise<boolean> {
  for (const name of new Set(names)) {
    const known = states[name]
    if (!known) continue
    const now = await readTextFile(path.join(paths.root, name), { within: paths.root })
    if (now.kind === 'text' && now.hash !== known.hash) return false
  }
  return true
}

/** `ours`/`theirs`/N of a kept conflict's values, as `crdt/present.ts` picks among a live one's. */
function pick(e: MergeEntry, take: Take, me: string): number {
  const n = e.values.length
  if (typeof take === 'number') {
    if (!Number.isInteger(take) || take < 1 || take > n) throw new TakeError(`conflict ${e.id} has ${n} values: choose 1 to ${n}`)
    return take - 1
  }
  const idx = e.values.map((v, i) => [v.author.id === me, i] as const).filter(([mine]) => mine === (take === 'ours'))
  if (idx.length === 0) throw new TakeError(take === 'ours' ? `none of the values of conflict ${e.id} was written on this machine: choose one by number` : `every value of conflict ${e.id} was written on this machine: choose one by number`)
  return idx[idx.length - 1]![1]
}

/**
 * Applies `take` to merge conflict `id` and writes the file. Returns the conflict as it was, or null when
 * no merge record has it. Throws when the file does not parse, or when the conflict turns out moot (then it
 * is dropped, and the error says why).
 */
export async function resolveMerge(paths: SpacePaths, rules: readonly RuleSpec[], id: string, take: Take, author: Author): Promise<Conflict | null> {
  for (const { file, rec } of await records(paths)) {
    const { entries, deletes } = openEntries(rec, rules)
    const left = entries.length + deletes.length - 1
    if (deletes.some((c) => c.id === id)) {
      const c = await resolveOnLines(paths, rec, rules, id, take, author).catch(async (e: unknown) => {
        // Moot (the lines changed since): forgotten, and the error says why.
        if (e instanceof CtxError && e.code === 'merge-dropped') await markDone(file, rec, [id], left)
        throw e
      })
      if (c) await markDone(file, rec, [id], left, true)
      return c
    }
    const e = entries.find((x) => x.id === id)
    if (!e) continue
    const index = pick(e, take, author.id)
    const cur = await current(paths, rec.file, rules)
    if (!cur.model) throw new CtxError('merge-unreadable', `${rec.file} cannot be read as YAML now: fix it, then resolve ${id}`)
    try {
      const p = placeConflict(cur.model, e)
      if (p.kind !== 'here') {
        await markDone(file, rec, [id], left)
        throw new CtxError('merge-dropped', droppedLine(rec.file, e, p))
      }
      setValue(cur.model, p.node, e.values[index]!.desc, Date.now() / 1000)
      const next = cur.model.render().text ?? ''
      if (next !== cur.text) await writeFileAtomic(path.join(paths.root, rec.file), next, { within: paths.root })
    } finally {
      cur.model.destroy()
    }
    await markDone(file, rec, [id], left, true)
    return e.conflict
  }
  return null
}

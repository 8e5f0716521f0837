/**
 * Reading the version store: what `history`, `show`, `diff` and `blame` answer. Reads the logs directly
 * (append-only, replaced only by an atomic rename), so it needs no lock and works whether a daemon runs
 * or not, offline too. A git commit is a point in history as well: its file is read from git (the
 * commit's own bytes), which is what its sync point holds.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { CtxError } from '../../errors.js'
import { historyNow } from './clock.js'
import { diffFlat, flatten, type FieldChange, type Flat } from './fields.js'
import { loggedDocs, readVersionsOf, type By, type Version } from './store.js'
import { localTime, parseTime } from './when.js'

export interface Author { id: string; name: string; kind: 'human' | 'agent' }
export const authorOf = (b: By): Author => ({ id: b[0], name: b[1], kind: b[2] })
/**
 * A version's writers, each name once: a commit's git author (`git:EMAIL`, no sync point) and the same
 * person's peer, in one version, were listed "ann, ann" (black-box tester stop 31, finding 10).
 */
export const authorsOf = (by: readonly By[]): Author[] => by.filter((b, i) => by.findIndex((x) => x[1] === b[1] && x[2] === b[2]) === i).map(authorOf)

export interface HistoryEntry {
  id: string
  time: string
  file: string
  /** `commit`: a git commit whose sync point covers the file (commits.ts); `id` is its short hash. */
  via: Version['via'] | 'commit'
  authors: Author[]
  /** `authors` per field: a commit's fields, each its writer's (commitcredit.ts). */
  fields: Array<FieldChange & { authors?: Author[] }>
  of?: string
  /** `undo`: `of` names no change kept here (an undo recorded as a peer's change names the id it had there). */
  ofElsewhere?: true
  /** `commit`: the full hash and the subject. */
  commit?: string
  subject?: string
  /** When the authors wrote it, when not when it was taken in here (`git`: the commit's author time; `resolve`: the chosen value's). */
  authoredAt?: string
  /** `resolve`: who kept the chosen value. */
  keptBy?: Author
}

export class NoSuchRef extends CtxError {
  constructor(ref: string, why: string) {
    super('no-such-ref', `${ref}: ${why}`)
  }
}

/** Every version of `docs` (all logged documents when not given), oldest first. */
export async function allVersions(dir: string, docs?: string[]): Promise<Version[]> {
  const names = docs ?? (await loggedDocs(dir))
  const all = (await Promise.all(names.map((d) => readVersionsOf(dir, d)))).flat()
  return all.sort((a, b) => a.t - b.t)
}

/** The version before `v` of the same document (null: none kept). */
export function previous(all: Version[], v: Version): Version | null {
  let prev: Version | null = null
  for (const x of all) {
    if (x.id === v.id && x.t === v.t) return prev
    if (x.doc === v.doc) prev = x
  }
  return null
}

/** `root`: the space's, to list its commits' sync points among the changes (none without it). */
export interface HistoryQuery { doc?: string; limit?: number; since?: number; author?: string; root?: string }

/**
 * Changes, newest first, with the fields each changed (against the version before it); with `root`, the
 * commits whose sync point covers the file are among them (commits.ts), in time order.
 */
export async function historyOf(dir: string, q: HistoryQuery): Promise<HistoryEntry[]> {
  const all = await allVersions(dir, q.doc ? [q.doc] : undefined)
  const flats = new Map<string, Flat>()
  const entries: HistoryEntry[] = []
  const want = q.author?.toLowerCase()
  const matches = (by: Array<{ id: string; name: string }>) => !want || by.some((b) => b.name.toLowerCase() === want || b.id === q.author)
  const ids = new Set(all.map((v) => v.id))
  for (const v of all) {
    const before = flats.get(v.doc) ?? flatten(null)
    const after = flatten(v.text)
    flats.set(v.doc, after)
    if (q.since !== undefined && v.t < q.since) continue
    if (!matches(v.by.map(authorOf))) continue
    entries.push({ id: v.id, time: new Date(v.t).toISOString(), file: v.doc, via: v.via, authors: authorsOf(v.by), fields: v.via === 'start' ? [] : diffFlat(before, after), ...(v.of ? { of: v.of, ...(ids.has(v.of) ? {} : { ofElsewhere: true as const }) } : {}), ...credited(v) })
  }
  entries.reverse()
  if (q.root) {
    const { commitEntries } = await import('./commits.js')
    // The files history kept and those tracked now: a clone that kept nothing yet (not joined) lists commits too.
    const docs = q.doc ? [q.doc] : [...new Set([...(await loggedDocs(dir)), ...(await trackedNow(q.root))])]
    // --author filters after the read: ask git for the newest `limit` only when every commit counts.
    // Each field its writer's, not the committer's (commitcredit.ts), before --author reads the authors.
    const { creditCommit } = await import('./commitcredit.js')
    const commits = (await commitEntries({ root: q.root, docs, since: q.since, limit: want ? undefined : q.limit, kinds: await kindsOf(q.root, all) })).map((c) => creditCommit(c, all, lastSetters, removers)).filter((c) => matches(c.authors))
    // Stable: at the same moment a version comes before (newer than) a commit, whose time is whole seconds.
    entries.push(...commits)
    entries.sort((a, b) => Date.parse(b.time) - Date.parse(a.time))
  }
  return q.limit !== undefined ? entries.slice(0, q.limit) : entries
}

/** The space's tracked files on disk now (its `track` globs), by space path. */
async function trackedNow(root: string): Promise<string[]> {
  const [{ readTeamConfig }, globs, { spacePaths }] = await Promise.all([import('../config.js'), import('../../fs/globs.js'), import('../paths.js')])
  const track = (await readTeamConfig(spacePaths(root).config).catch(() => null))?.track ?? globs.DEFAULT_INCLUDE
  return (await globs.listTracked(root, track).catch(() => ({ files: [] as string[] }))).files
}

/** Human or agent, for a sync point's writer: as the versions' authors say, and this machine's settings. */
async function kindsOf(root: string, all: Version[]): Promise<Map<string, Author['kind']>> {
  const kinds = new Map<string, Author['kind']>()
  for (const v of all) for (const b of v.by) kinds.set(b[0], b[2])
  const [{ spacePaths }, { readIdentity }, { readLocalSettings }] = await Promise.all([import('../paths.js'), import('../secrets.js'), import('../config.js')])
  const paths = spacePaths(root)
  const me = await readIdentity(paths.identity).catch(() => null)
  const local = await readLocalSettings(paths.local, { name: '', agent: false, host: '', port: 0, peers: [] }).catch(() => null)
  if (me && local) kinds.set(me.id, local.agent ? 'agent' : 'human')
  return kinds
}

/** A carried change's credit (credits.ts), as history and blame show it. */
const credited = (v: Version): { authoredAt?: string; keptBy?: Author } => ({
  ...(v.at ? { authoredAt: new Date(v.at).toISOString() } : {}),
  ...(v.kept ? { keptBy: authorOf(v.kept) } : {}),
})

export function findChange(all: Version[], id: string): Version | null {
  const hits = all.filter((v) => v.id.startsWith(id.toLowerCase()))
  if (hits.length > 1) throw new CtxError('ambiguous-ref', `${id} names ${hits.length} changes: give more of its id`)
  return hits[0] ?? null
}

export interface Point {
  text: string | null
  label: string
  version: Version | null
  doc: string
  /** Why `text` is null when nothing says the file was absent then (no version kept from then). */
  unknown?: string
  /** A git commit's time (ms): the versions up to it say who set its values. */
  commitAt?: number
}

/**
 * A file as it was at `ref`: a change id (the file right after it), a time (`10m`, `2h`, `yesterday 14:00`,
 * ISO: the newest version at or before it), or a git commit-ish (the commit's file). `doc` may be omitted
 * for a change id.
 */
export async function fileAt(root: string, dir: string, ref: string, doc: string | null): Promise<Point> {
  const all = await allVersions(dir, doc ? [doc] : undefined)
  if (/^[0-9a-f]{4,16}$/i.test(ref)) {
    const v = findChange(doc ? await allVersions(dir) : all, ref)
    if (v && (!doc || v.doc === doc)) return { text: v.text, label: `change ${v.id}`, version: v, doc: v.doc }
    // A change of another file names a moment: this file as it was then (`show ID PATH`, `diff ID ID`,
    // which compares every file; it failed as 'not a change id' for every other file).
    if (v && doc) {
      const w = [...all].reverse().find((x) => x.t <= v.t) ?? null
      if (w) return { text: w.text, label: `${doc} at change ${v.id} (${localTime(v.t)})`, version: w, doc }
      return { text: null, label: `${doc} at change ${v.id}`, version: null, doc, unknown: `no version of ${doc} is kept from ${localTime(v.t)} or before` }
    }
  }
  const at = parseTime(ref, historyNow())
  if (at !== null) {
    if (!doc) throw new CtxError('need-path', `${ref} is a time: name the file too (ctxsync show ${ref} PATH)`)
    const v = [...all].reverse().find((x) => x.doc === doc && x.t <= at) ?? null
    if (!v) {
      // Say where history starts and what reaches further back (the help's `diff 1h` failed in a space's
      // first hour with no hint: black-box tester, stop 25).
      const first = all.find((x) => x.doc === doc)
      const since = first ? `: its history here starts at ${localTime(first.t)} (change ${first.id}); a git commit (e.g. HEAD) reaches further back` : ''
      throw new NoSuchRef(ref, `no version of ${doc} kept from ${localTime(at)} or before${since}`)
    }
    return { text: v.text, label: `${doc} at ${localTime(v.t)} (change ${v.id})`, version: v, doc }
  }
  const commit = await gitRev(root, ref)
  if (!commit) throw new NoSuchRef(ref, 'not a change id, a time or a git commit (`ctxsync history` lists changes)')
  if (!doc) throw new CtxError('need-path', `${ref} is a git commit: name the file too (ctxsync show ${ref} PATH)`)
  const ct = Number((await run(root, ['log', '-1', '--format=%ct', commit]))?.trim())
  return { text: await gitFile(root, commit, doc), label: `${doc} at commit ${commit.slice(0, 12)}`, version: null, doc, ...(ct > 0 ? { commitAt: ct * 1000 } : {}) }
}

function run(cwd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, out) => resolve(err ? null : out))
  })
}

export async function gitRev(root: string, ref: string): Promise<string | null> {
  if (ref.startsWith('-')) return null
  return (await run(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]))?.trim() || null
}

/** The commit's bytes of the file (null: not in that commit). */
export async function gitFile(root: string, commit: string, doc: string): Promise<string | null> {
  const top = (await run(root, ['rev-parse', '--show-toplevel']))?.trim()
  const rel = top ? path.relative(top, path.join(root, doc)).split(path.sep).join('/') : doc
  return run(root, ['show', `${commit}:${rel}`])
}

/** What the file holds now (null: absent). */
export async function current(root: string, doc: string): Promise<string | null> {
  try {
    return await fs.readFile(path.join(root, doc), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
}

export interface BlameLine {
  path: string
  value: string
  authors: Author[]
  time: string | null
  change: string | null
  via: Version['via'] | 'unrecorded'
  /** In words, when no author is known: `set before this clone joined`. */
  note?: string
  /** The value was chosen in a conflict by this peer (`authors` wrote it, at `time`). */
  keptBy?: Author
}

/**
 * Every field's current value with the change that last set it: the versions are walked oldest first, and
 * a field's change is the last version whose value for it differs from the version before. A value the
 * file holds but no version does yet (a save not taken in) is `unrecorded`.
 *
 * A version that does not say who set a field — the first one kept, a text nobody edited, one naming no
 * one or several peers (a joining clone takes in the whole file at once: every field named `b, a`, or `?`)
 * — gives way to the CRDT's authorship of that field (crdtauthors.ts); when that is unknown too, the line
 * says so in words.
 */
export async function blameOf(root: string, dir: string, doc: string): Promise<BlameLine[]> {
  const text = await current(root, doc)
  const out = await blameLines(root, dir, doc, text)
  // A field under an alias is its anchored field's (crdtauthors.ts aliasesOf): the CRDT could not say it.
  const { aliasesOf, anchoredPath } = await import('./crdtauthors.js')
  const aliases = aliasesOf(text), at = new Map(out.map((l) => [l.path, l]))
  return out.map((l) => { const t = aliases.length ? at.get(anchoredPath(l.path, aliases) ?? '') : undefined; return t && t !== l && t.value === l.value ? { ...t, path: l.path } : l })
}

async function blameLines(root: string, dir: string, doc: string, text: string | null): Promise<BlameLine[]> {
  const versions = await readVersionsOf(dir, doc)
  const setBy = lastSetters(versions)
  const now = flatten(text).leaves
  const out: BlameLine[] = []
  for (const [p, value] of now) {
    const s = setBy.get(p)
    if (!s || s.value !== value) out.push({ path: p, value, authors: [], time: null, change: null, via: 'unrecorded' })
    else out.push({ path: p, value, authors: authorsOf(s.v.by), time: new Date(s.v.at ?? s.v.t).toISOString(), change: s.v.id, via: s.v.via, ...(s.v.kept ? { keptBy: authorOf(s.v.kept) } : {}) })
  }
  const vague = (l: BlameLine) => l.via !== 'unrecorded' && (l.authors.length !== 1 || l.via === 'start' || l.via === 'settled')
  const ask = out.filter(vague)
  // A resolution that kept the value the file showed changed no text, so no version says who kept it: the
  // CRDT does (its register holds the resolver's write of it), for every field recorded as set by one writer.
  const sure = out.filter((l) => l.via !== 'unrecorded' && !vague(l) && !l.keptBy)
  if (ask.length === 0 && sure.length === 0) return out
  const { crdtWriters } = await import('./crdtauthors.js')
  // A version naming several writers, one of them a pull's commit (a peer that caught up on a pull; a save
  // taken in in the pull's turn, a 'local' version): each field's commit writer, where its value is the
  // commit's. Asked of pulls alone, the pulled value of a save-and-pull turn was the puller's (issue 13).
  const among = new Map(ask.filter((l) => l.authors.length > 1).map((l) => [l.path, l.authors.map((a) => a.id)]))
  // A value brought back (an undo, a restore, a peer's) is the bringer's write in the CRDT: its writer is the
  // register's earlier write by someone else (blame after bob undid his truncation named bob on ann, for
  // values that ann's first version held, and ann on bob: black-box tester).
  const past = new Map(ask.flatMap((l) => { const b = setBy.get(l.path)?.back; return b?.length ? [[l.path, b.map((x) => x[0])] as const] : [] }))
  const writers = await crdtWriters(root, doc, [...ask, ...sure].map((l) => l.path), among, past).catch(() => new Map<string, never>())
  for (const l of sure) {
    const w = writers.get(l.path)
    if (w?.kept && w.author.id === l.authors[0]!.id) l.keptBy = w.kept
  }
  const first = versions.find((v) => v.text !== null)
  for (const l of ask) {
    const w = writers.get(l.path)
    if (w) {
      l.authors = [w.author]
      if (w.at !== null) l.time = new Date(w.at).toISOString()
      if (w.kept) l.keptBy = w.kept
    } else if (l.authors.length !== 1 && (l.change === first?.id || l.via === 'start')) {
      // The file as this clone first took it in: whoever is named made some change in it, not this field.
      l.authors = []
      l.note = 'set before this clone joined'
    } else if (l.authors.length === 0) l.note = 'author not recorded'
  }
  return out
}

/**
 * For each field, the last of `versions` (one document's, oldest first) that set its value, and the value.
 * A value brought back is not authored again: when a field returns with a value it had before, after it was
 * gone (a truncation undone, on this machine or as a peer's change) or through `undo`/`restore`, it keeps
 * the author who first wrote that value (blame after undoing a truncation named the undoer for every field).
 * A person typing a field's old value over a newer one is an edit of their own.
 */
export function lastSetters(versions: Version[]): Map<string, Setter> {
  const setBy = new Map<string, Setter>()
  const earlier = new Map<string, Map<string, Setter>>()
  /** Who wrote each field, version by version (for a value brought back: who wrote it since). */
  const writes = new Map<string, Version[]>()
  let prev = new Map<string, string>()
  for (const v of versions) {
    const leaves = flatten(v.text).leaves
    const bringsBack = v.via === 'undo' || v.via === 'restore'
    for (const [p, value] of leaves) {
      if (prev.get(p) === value && setBy.has(p)) continue
      const before = earlier.get(p)?.get(value)
      ;(writes.get(p) ?? writes.set(p, []).get(p)!).push(v)
      const s: Setter = before && (bringsBack || !prev.has(p)) ? { ...before, back: since(writes.get(p)!, before.v) } : { v, value }
      setBy.set(p, s)
      if (!earlier.has(p)) earlier.set(p, new Map())
      if (!before) earlier.get(p)!.set(value, s)
    }
    prev = leaves
  }
  return setBy
}

export interface Setter {
  v: Version
  value: string
  /** The value was brought back (`v` first wrote it): the peers who wrote the field since, the last first. */
  back?: By[]
}

/** The authors of the writes after `origin`, the last first (each once). */
function since(writes: Version[], origin: Version): By[] {
  const out: By[] = []
  for (const w of [...writes].reverse()) {
    if (w === origin) break
    for (const b of w.by) if (!out.some((x) => x[0] === b[0])) out.push(b)
  }
  return out
}

export interface DiffEntry extends FieldChange { authors: Author[]; time: string | null; keptBy?: Author }
export interface FileDiff { file: string; from: string; to: string; changes: DiffEntry[] }

/**
 * What changed in `doc` from FROM (default: the file at HEAD, the last sync point) to TO (default: now),
 * field by field, each with who made the change: who set its new value, as `blame` says it (up to TO: the
 * versions then), or who removed it. Read from a version's authors alone, a field only ann edited was
 * `ann, bob` where bob took both edits in at once, a removal named no one or a field's first writer, and a
 * kept value its keeper on one peer (black-box tester).
 */
export async function diffOf(root: string, dir: string, doc: string, from?: string, to?: string): Promise<FileDiff> {
  const a = from ? await fileAt(root, dir, from, doc) : { text: (await gitRev(root, 'HEAD')) ? await gitFile(root, 'HEAD', doc) : null, label: 'HEAD', version: null }
  const b = to ? await fileAt(root, dir, to, doc) : { text: await current(root, doc), label: 'now', version: null }
  const versions = await readVersionsOf(dir, doc)
  // Who set a value as TO shows it: the versions up to TO (a commit: up to its time; a pulled commit's
  // version counts at its author's time). All of them named today's writer of a field changed since
  // (`diff C1 C2` credited a commit's change to a later editor: black-box tester, issue 16).
  const upTo = b.version ? versions.filter((v) => v.t <= b.version!.t) : 'commitAt' in b && b.commitAt !== undefined ? versions.filter((v) => (v.at ?? v.t) < (b as Point).commitAt! + 1000) : versions
  const setBy = lastSetters(upTo)
  // Now: blame's answer (the CRDT's writer where a version names several or none). At a past point the
  // CRDT no longer says: the versions then.
  const now = to ? null : new Map((await blameOf(root, dir, doc).catch(() => [] as BlameLine[])).map((l) => [l.path, l]))
  const gone = removers(upTo)
  const under = <T>(m: Map<string, T>, p: string, newer: (x: T, y: T) => boolean): T | undefined => {
    let best = m.get(p)
    if (best === undefined) for (const [q, x] of m) if (within(q, p) && (best === undefined || newer(x, best))) best = x
    return best
  }
  const after = flatten(b.text)
  const present = new Map([...setBy].filter(([q]) => after.leaves.has(q)))
  const changes = diffFlat(flatten(a.text), after).map((c): DiffEntry => {
    if (c.kind === 'removed') {
      const r = under(gone, c.path, (x, y) => x.t > y.t)
      return { ...c, authors: r ? authorsOf(r.by) : [], time: r ? new Date(r.t).toISOString() : null }
    }
    const l = now && under(now, c.path, (x, y) => (x.time ?? '') > (y.time ?? ''))
    if (l && l.authors.length) return { ...c, authors: l.authors, time: l.time, ...(l.keptBy ? { keptBy: l.keptBy } : {}) }
    const s = under(present, c.path, (x, y) => x.v.t > y.v.t)
    return { ...c, authors: s ? authorsOf(s.v.by) : [], time: s ? new Date(s.v.at ?? s.v.t).toISOString() : null, ...(s?.v.kept ? { keptBy: authorOf(s.v.kept) } : {}) }
  })
  return { file: doc, from: a.label, to: b.label, changes }
}

/** `q` is `p` or a field below it. */
const within = (q: string, p: string): boolean => q === p || (q.startsWith(p) && (q[p.length] === '.' || q[p.length] === '['))

/** For each field, the last of `versions` that removed it. */
function removers(versions: Version[]): Map<string, Version> {
  const out = new Map<string, Version>()
  let prev = new Map<string, string>()
  for (const v of versions) {
    const leaves = flatten(v.text).leaves
    for (const p of prev.keys()) if (!leaves.has(p)) out.set(p, v)
    prev = leaves
  }
  return out
}

export { diffFlat, flatten }

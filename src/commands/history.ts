/**
 * `ctxsync history`, `show`, `diff` and `blame`: reading the versions this machine kept of the tracked
 * files (`space/versions/`). They read the version logs directly — no lock, no daemon needed, offline too;
 * with a daemon running they see what it recorded, since it writes each version within a macrotask.
 */
import fs from 'node:fs'
import path from 'node:path'
import { CtxError, UsageError } from '../errors.js'
import { loadVersions, requireRoot, spacePaths } from '../space/index.js'

type V = Awaited<ReturnType<typeof loadVersions>>
export type HistoryEntry = Awaited<ReturnType<V['historyOf']>>[number]
export type BlameLine = Awaited<ReturnType<V['blameOf']>>[number]
export type FileDiff = Awaited<ReturnType<V['diffOf']>>

/** A path as typed (relative to `cwd`) as the space names it: relative to its root, with `/`. */
export function docName(root: string, cwd: string, p: string): string {
  const rel = path.relative(root, path.resolve(cwd, p)).split(path.sep).join('/')
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new UsageError(`${p} is outside the space (${root})`)
  return rel
}

/** `p` as a document name, refused (usage, exit 2) unless it is a file of the space. */
export async function trackedDoc(v: V, root: string, cwd: string, p: string): Promise<string> {
  const doc = docName(root, cwd, p)
  if (!(await v.isTrackedDoc(root, doc))) throw new UsageError(`${p} is not a tracked file of this space (\`ctxsync status\` lists them; \`track\` in ctxsync.yaml says which)`)
  return doc
}

export interface HistoryOptions { cwd: string; path?: string; limit?: number; since?: string; author?: string }

/**
 * `authors`: when `--author` matched nothing, who made the changes kept that the other filters let through.
 * `notJoined`: nothing is kept because this clone never joined the space (no identity): not "nothing yet".
 */
export async function history(o: HistoryOptions): Promise<{ entries: HistoryEntry[]; now: number; authors?: HistoryEntry['authors']; notJoined?: true }> {
  const root = requireRoot(o.cwd)
  const v = await loadVersions()
  const now = v.historyNow()
  let since: number | undefined
  if (o.since !== undefined) {
    const t = v.parseTime(o.since, now)
    if (t === null) throw new UsageError(`--since ${o.since}: not a time (10m, 2h, yesterday 14:00, 2025-01-31T09:00)`)
    since = t
  }
  const doc = o.path ? await trackedDoc(v, root, o.cwd, o.path) : undefined
  const entries = await v.historyOf(v.versionsDirOf(root), { doc, limit: o.limit, since, author: o.author, root })
  if (!entries.length && !fs.existsSync(spacePaths(root).identity)) return { entries, now, notJoined: true }
  if (entries.length || !o.author) return { entries, now }
  // Asked again only when nothing matched: "no changes kept yet" was said to a misspelt name (issue 17).
  const authors = new Map<string, HistoryEntry['authors'][number]>()
  for (const e of await v.historyOf(v.versionsDirOf(root), { doc, since, root })) for (const a of e.authors) authors.set(`${a.kind}:${a.name}`, a)
  return { entries, now, authors: [...authors.values()].sort((x, y) => x.name.localeCompare(y.name)) }
}

export interface ShowOptions { cwd: string; ref: string; path?: string }

/**
 * `show REF [PATH]`: the file's text at REF; a file that did not exist then (deleted, not in that commit,
 * or no version kept from then) is an error (exit 1) saying which — `--json` gives `text: null` and why.
 */
export async function show(o: ShowOptions & { json?: boolean }): Promise<{ file: string; label: string; text: string | null; unknown?: string }> {
  const root = requireRoot(o.cwd)
  const v = await loadVersions()
  const p = await v.fileAt(root, v.versionsDirOf(root), o.ref, o.path ? await trackedDoc(v, root, o.cwd, o.path) : null)
  if (p.text === null && !o.json) throw new CtxError('not-at-ref', `${p.doc} did not exist at ${o.ref}${p.unknown ? ` (${p.unknown})` : p.version ? ` (deleted: change ${p.version.id})` : ''}`)
  return { file: p.doc, label: p.label, text: p.text, ...(p.unknown ? { unknown: p.unknown } : {}) }
}

export interface DiffOptions { cwd: string; args: string[] }

/** `diff [FROM] [TO] [PATH]`: a last argument that names a file is the path. */
export async function diff(o: DiffOptions): Promise<{ files: FileDiff[] }> {
  const root = requireRoot(o.cwd)
  const v = await loadVersions()
  const args = [...o.args]
  let doc: string | null = null
  const last = args.at(-1)
  // A path: it has a '/', a YAML name, or names a file here (`diff README.md` read it as a ref).
  const isPath = (x: string) => x.includes('/') || /\.ya?ml$/.test(x) || fs.existsSync(path.resolve(o.cwd, x))
  if (last !== undefined && isPath(last)) doc = await trackedDoc(v, root, o.cwd, args.pop()!)
  if (args.length > 2) throw new UsageError('diff takes at most FROM, TO and PATH')
  const [from, to] = args
  const dir = v.versionsDirOf(root)
  const docs = doc ? [doc] : await v.loggedDocs(dir)
  const files: FileDiff[] = []
  for (const d of docs) {
    const f = await v.diffOf(root, dir, d, from, to)
    if (f.changes.length || doc) files.push(f)
  }
  return { files }
}

export async function blame(o: { cwd: string; path: string }): Promise<{ file: string; fields: BlameLine[] }> {
  const root = requireRoot(o.cwd)
  const v = await loadVersions()
  const doc = await trackedDoc(v, root, o.cwd, o.path)
  const fields = await v.blameOf(root, v.versionsDirOf(root), doc)
  if (fields.length === 0 && !(await v.loggedDocs(v.versionsDirOf(root))).includes(doc)) throw new CtxError('no-history', `${doc}: no versions kept yet`)
  return { file: doc, fields }
}

/**
 * Sync points as history entries (issue 16: "sync points (git commits) are versions too"). A commit whose
 * sync point covers a file is a point in that file's history: `history` lists it with its commit time, the
 * writer its sync point names (as `gitsteps.ts` creditsOf credits a commit: the sync point's writer, else
 * the git author) and the fields its text changed against the previous such commit's.
 *
 * Read from git alone — no daemon, offline — and cheaply: one `git log` of the files' commits with their
 * notes (bounded by `-n`), then one `cat-file --batch-check` for the blobs and one `cat-file --batch` for
 * the texts of the commits listed.
 */
import path from 'node:path'
import { NOTES_REF, parseNote, type SyncPoint } from '../../git/notes.js'
import { Repo } from '../../git/repo.js'
import { diffFlat, flatten, type FieldChange } from './fields.js'

export interface CommitEntry {
  /** The commit's short hash: what `show`, `diff` and `restore --to` take. */
  id: string
  time: string
  file: string
  via: 'commit'
  authors: Array<{ id: string; name: string; kind: 'human' | 'agent' }>
  fields: FieldChange[]
  commit: string
  subject: string
}

export interface CommitQuery {
  root: string
  docs: readonly string[]
  /** ms since the epoch: only commits made since. */
  since?: number
  /** At most this many entries are wanted (the newest). */
  limit?: number
  /** What the space knows of peers: id → kind (the versions' authors; this machine's own settings). */
  kinds: ReadonlyMap<string, 'human' | 'agent'>
}

interface Row { hash: string; short: string; time: number; name: string; email: string; subject: string; points: SyncPoint[] }

const SEP = '\x1e'

/** The commits of `docs` whose sync point covers them and whose text differs from the one before, newest first. */
export async function commitEntries(q: CommitQuery): Promise<CommitEntry[]> {
  if (q.docs.length === 0 || q.limit === 0) return []
  const repo = await Repo.open(q.root)
  if (!repo || !(await repo.head())) return []
  const prefix = path.relative(repo.root, q.root).split(path.sep).join('/')
  const gitPathOf = new Map(q.docs.map((d) => [d, prefix === '' ? d : `${prefix}/${d}`]))
  // Commits without a sync point, or that changed only another file, are dropped after the read: ask for
  // more than wanted, and again for more when that was not enough and git had more.
  // --since is applied here, not by git: git stops at the first commit older than it, and commit times
  // need not follow the graph (a rebase, a clock behind) — a newer commit behind it was never listed.
  for (let max = q.limit === undefined ? undefined : 2 * q.limit + 4; ; max = max! * 4) {
    const { rows, more } = await readRows(repo, [...gitPathOf.values()], max)
    const out = (await entriesOf(repo, rows, gitPathOf, q.kinds)).filter((e) => q.since === undefined || Date.parse(e.time) >= q.since)
    const older = q.since !== undefined && rows.length > 0 && rows.at(-1)!.time * 1000 < q.since
    if (q.limit === undefined || out.length >= q.limit || !more || older) return q.limit === undefined ? out : out.slice(0, q.limit)
  }
}

async function readRows(repo: Repo, gitPaths: string[], max: number | undefined): Promise<{ rows: Row[]; more: boolean }> {
  const args = ['log', `--notes=${NOTES_REF}`, `--format=${SEP}%H%x00%h%x00%ct%x00%an%x00%ae%x00%s%x00%N`]
  if (max !== undefined) args.push(`--max-count=${max}`)
  const r = (await repo.tryRaw([...args, 'HEAD', '--', ...gitPaths])) ?? ''
  const rows: Row[] = []
  for (const rec of r.split(SEP)) {
    const [hash, short, time, name, email, subject, note] = rec.split('\0')
    if (!hash || !short || !time) continue
    rows.push({ hash: hash.trim(), short, time: Number(time), name: name ?? '', email: email ?? '', subject: subject ?? '', points: parseNote(note ?? '') })
  }
  return { rows, more: max !== undefined && rows.length >= max }
}

async function entriesOf(repo: Repo, rows: Row[], gitPathOf: Map<string, string>, kinds: CommitQuery['kinds']): Promise<CommitEntry[]> {
  // Per file, its commits with a sync point covering it, oldest first; the oldest read is compared with its
  // parent's text (the commits before it were not read: -n, --since).
  const byDoc = new Map<string, Array<{ row: Row; point: SyncPoint }>>()
  for (const [doc, gp] of gitPathOf) {
    const list = rows.flatMap((row) => {
      const point = row.points.find((p) => p.files[gp] && p.peer && p.by) ?? row.points.find((p) => p.files[gp])
      return point ? [{ row, point }] : []
    }).reverse()
    if (list.length) byDoc.set(doc, list)
  }
  const specs = [...byDoc].flatMap(([doc, list]) => [`${list[0]!.row.hash}^:${gitPathOf.get(doc)}`, ...list.map((x) => `${x.row.hash}:${gitPathOf.get(doc)}`)])
  const oids = await repo.resolveMany(specs)
  const listed: Array<{ doc: string; row: Row; point: SyncPoint; oid: string; base: string | null }> = []
  for (const [doc, list] of byDoc) {
    const gp = gitPathOf.get(doc)!
    let prev = oids.get(`${list[0]!.row.hash}^:${gp}`) ?? null
    for (const x of list) {
      const oid = oids.get(`${x.row.hash}:${gp}`) ?? null
      if (oid === null || oid === prev) continue
      listed.push({ doc, row: x.row, point: x.point, oid, base: prev })
      prev = oid
    }
  }
  const texts = await repo.readBlobs(listed.flatMap((l) => (l.base ? [l.oid, l.base] : [l.oid])))
  const text = (oid: string | null) => (oid === null ? null : (texts.get(oid) ?? null))
  const entries = listed.map(({ doc, row, point, oid, base }): CommitEntry => {
    const id = point.peer && point.by ? point.peer : `git:${row.email || row.name}`
    const name = point.peer && point.by ? point.by : row.name
    return {
      id: row.short, time: new Date(row.time * 1000).toISOString(), file: doc, via: 'commit',
      authors: [{ id, name, kind: kinds.get(id) ?? 'human' }],
      fields: diffFlat(flatten(text(base)), flatten(text(oid))), commit: row.hash, subject: row.subject,
    }
  })
  return entries.sort((a, b) => Date.parse(b.time) - Date.parse(a.time))
}

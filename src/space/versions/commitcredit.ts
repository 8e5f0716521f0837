/**
 * Who wrote each field a commit's history entry lists. A commit entry (commits.ts) names its sync point's
 * writer, the committer, for every field: ann's commit of bob's live change read `d5d50dd ann "a commit
 * live" ~ T-1.status todo→doing` (black-box tester stop 32, finding 9a). The committer only committed what
 * the live context held; who set each value is what this clone's versions said at the commit's time, as
 * `diff` between commits reads it (query.ts diffOf). A field no version up to then set to the committed
 * value (a plain-git edit, a value this clone never held) stays the committer's.
 */
import type { FieldChange } from './fields.js'
import type { By, Version } from './store.js'

interface Who { id: string; name: string; kind: 'human' | 'agent' }
interface Setter { v: Version; value: string }
export type CreditedField = FieldChange & { authors?: Who[] }
interface Entry { time: string; file: string; authors: Who[]; fields: CreditedField[] }

/** `q` is `p` or a field below it. */
const within = (q: string, p: string): boolean => q === p || (q.startsWith(p) && (q[p.length] === '.' || q[p.length] === '['))
const whoOf = (b: By): Who => ({ id: b[0], name: b[1], kind: b[2] })

/**
 * `e` with its authors the writers of its fields, and each field its writer when they are several. `versions`: the file's, oldest first; `setters` and `removers` read
 * them as blame and diff do (query.ts lastSetters, removers).
 */
export function creditCommit<E extends Entry>(e: E, versions: Version[], setters: (vs: Version[]) => Map<string, Setter>, removers: (vs: Version[]) => Map<string, Version>): E {
  // A pulled commit's version counts at its author's time; a commit's time is whole seconds.
  const until = Date.parse(e.time) + 1000
  const upTo = versions.filter((v) => v.doc === e.file && (v.at ?? v.t) < until)
  if (upTo.length === 0) return e
  const setBy = setters(upTo)
  const gone = removers(upTo)
  const committer = e.authors
  const writersOf = (f: FieldChange): By[] | null => {
    if (f.kind === 'removed') {
      const r = [...gone].filter(([q]) => within(q, f.path)).map(([, v]) => v).sort((a, b) => b.t - a.t)[0]
      return r && r.by.length === 1 ? r.by : null
    }
    const s = setBy.get(f.path)
    if (s) return f.after !== undefined && s.value === f.after && s.v.by.length === 1 ? s.v.by : null
    // A whole item or key that came: the writers of its fields.
    const under = [...setBy].filter(([q]) => within(q, f.path)).map(([, x]) => x.v)
    if (under.length === 0 || under.some((v) => v.by.length !== 1)) return null
    return under.map((v) => v.by[0]!).filter((b, i, all) => all.findIndex((x) => x[0] === b[0]) === i)
  }
  const fields = e.fields.map((f): CreditedField => {
    const by = writersOf(f)
    return { ...f, authors: by ? by.map(whoOf) : committer }
  })
  const authors: Who[] = []
  for (const f of fields) for (const a of f.authors ?? []) if (!authors.some((x) => x.id === a.id || (x.name === a.name && x.kind === a.kind))) authors.push(a)
  // One writer for all: the entry's authors say it (the fields as before).
  if (authors.length <= 1) return { ...e, authors: authors.length ? authors : committer }
  return { ...e, fields, authors }
}

/**
 * The daemon's log lines about conflicts. A concurrent overwrite of one value was merged without a word:
 * the file showed one of the values, and neither side's log said that the other was kept as a conflict,
 * nor what to do (first-day session, issue 17). Now each conflict is said once when it appears — who
 * changed what, which value the file keeps, the command that keeps the other — and once when it goes
 * (resolved here or by a peer).
 *
 * Checked after changes, at most once a second (as the status summary is): listing conflicts reads every
 * document's conflict maps.
 */
import type { Conflict, ConflictValue } from '../crdt/present.js'

export interface ConflictSource {
  readonly identity: { readonly id: string }
  conflicts(): Conflict[]
  on(event: 'changed' | 'file-written', listener: (doc: string) => void): unknown
  /** The document's worker: idle once its write-back (if any) is done. */
  doc?(name: never): { readonly idle: boolean } | undefined
}

/**
 * How long a check waits for the write-back of what changed: the log says "updated" first, then the conflict.
 * WRITE_WAIT_MS at least (the write-back is asked for once the update is stored), longer while the
 * document's worker still has turns to run (its write-back), up to BUSY_WAIT_MS; a document idle and
 * unwritten by then showed its value already (it won here). The fixed 500 ms alone let the conflict line
 * come first under load (first-day e2e, CI).
 */
const WRITE_WAIT_MS = 500
const BUSY_WAIT_MS = 10_000

/**
 * Starts saying conflicts as they come and go; returns the stop (a pending check is dropped). `stopping`:
 * from then on nothing is said (a space closing lists no conflicts, which would read as all resolved).
 */
export function logConflicts(space: ConflictSource, say: (line: string) => void, stopping: () => boolean = () => false): () => void {
  let known = new Map(space.conflicts().map((c) => [c.id, c]))
  if (known.size) say(`${known.size} conflict(s) wait for a choice: \`ctxsync resolve --list\` shows them`)
  let timer: NodeJS.Timeout | null = null
  let last = 0
  let stopped = false
  let running = false
  let again = false
  const schedule = () => {
    if (stopped || stopping() || timer) return
    timer = setTimeout(() => void check(), Math.max(100, last + 1000 - Date.now()))
    timer.unref?.()
  }
  const check = async () => {
    timer = null
    // One check at a time, or a conflict could be said twice; a change during a check asks for another.
    if (running) return void (again = true)
    running = true
    last = Date.now()
    try {
      const waiting = [...unwritten]
      const soon = Date.now() + WRITE_WAIT_MS
      const late = Date.now() + BUSY_WAIT_MS
      const pending = (d: string) => unwritten.has(d) && (Date.now() < soon || space.doc?.(d as never)?.idle === false)
      while (waiting.some(pending) && Date.now() < late && !stopped) await new Promise((r) => setTimeout(r, 20))
      for (const d of waiting) unwritten.delete(d)
      if (stopped || stopping()) return
      const now = new Map(space.conflicts().map((c) => [c.id, c]))
      for (const [id, c] of now) if (!known.has(id)) say(appeared(c, space.identity.id))
      for (const [id, c] of known) if (!now.has(id)) say(`conflict ${id} resolved (${c.file}, ${c.display})`)
      known = now
    } catch {
      // the space closed under a late check (the daemon stopping): nothing more to say
    } finally {
      running = false
      if (again) {
        again = false
        schedule()
      }
    }
  }
  // Documents changed since their last write-back. A change whose value lost here is written back; one
  // whose value won (or a local edit) is not, so the wait for it is bounded.
  const unwritten = new Set<string>()
  space.on('changed', (doc: string) => {
    unwritten.add(doc)
    schedule()
  })
  space.on('file-written', (doc: string) => void unwritten.delete(doc))
  return () => {
    stopped = true
    if (timer) clearTimeout(timer)
  }
}

/**
 * "conflict in todos.yaml, todos[id=t1].status: you and ann changed it at once; the file keeps yours
 * (blocked). To keep ann's (done): `ctxsync resolve 1a2b3c4d --take 1`".
 */
export function appeared(c: Conflict, self: string): string {
  const whose = (v: ConflictValue) => (v.author.id === self ? 'yours' : `${v.author.name}'s`)
  const what = (v: ConflictValue) => (v.deleted ? 'deleted' : oneLine(v.raw))
  const names = [...new Set(c.values.map((v) => (v.author.id === self ? 'you' : v.author.name)))]
  const who = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0] ?? 'two peers'
  const kept = c.values[c.winner - 1]
  const head = `conflict in ${c.file}, ${c.display}: ${who} changed it at once; the file keeps ${kept ? `${whose(kept)} (${what(kept)})` : 'one value'}.`
  const others = c.values.map((v, i) => ({ v, n: i + 1 })).filter(({ n }) => n !== c.winner)
  if (others.length === 1) return `${head} To keep ${whose(others[0]!.v)} (${what(others[0]!.v)}): \`ctxsync resolve ${c.id} --take ${others[0]!.n}\``
  return `${head} \`ctxsync resolve --list\` shows the others; \`ctxsync resolve ${c.id} --take N\` keeps one`
}

function oneLine(raw: string): string {
  const t = raw.replace(/\n\s*/g, ' ').trim()
  return t.length > 60 ? `${t.slice(0, 57)}…` : t
}

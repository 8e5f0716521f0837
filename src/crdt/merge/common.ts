/**
 * What both sides of a merge changed the same way, taken into the base before the sides are merged.
 *
 * Why: the CRDT merge replays each side's changes as an offline peer's; two peers that each insert the line
 * "Log every rejection." into a block scalar (or `beta` into a list of plain values) made two insertions, and
 * a CRDT keeps both. Between git versions that is the common case, not a race: a change made live reaches
 * every clone, is committed on one, and a later pull merges that commit (which has it) with the stash or
 * the working files (which have it too) over an older base. git's own merge takes a change made
 * identically on both sides once; so must we (black-box tester, stop 25: a note's lines tripled over two
 * pulls and were committed).
 *
 * Each side's line diff against the base is cut into deleted base lines and runs of inserted lines; a run
 * replacing base lines [lo, hi) may sit at any gap from lo to hi for that side (it deletes those lines
 * anyway: diffs align such hunks either way). Where two runs can meet at a gap and are equal, or one is the
 * start or the end of the other ("C" against "C, D"), those lines go into the common base there, and the
 * base lines both runs replaced leave it. Nothing else is guessed: two different runs that
 * merely share a line (each new todo's `status: open`) stay apart. The caller falls back to the plain base
 * when the common base does not parse.
 */
import { diffArrays } from 'diff'

interface Run {
  lo: number
  hi: number
  lines: string[]
}

interface Edits {
  deleted: Set<number>
  runs: Run[]
}

function editsOf(base: string[], side: string[]): Edits {
  const e: Edits = { deleted: new Set(), runs: [] }
  let o = 0
  let removed = 0
  let added: string[] = []
  const flush = () => {
    for (let k = o - removed; k < o; k++) e.deleted.add(k)
    if (added.length) e.runs.push({ lo: o - removed, hi: o, lines: added })
    removed = 0
    added = []
  }
  for (const p of diffArrays(base, side)) {
    if (p.added) added = added.concat(p.value)
    else if (p.removed) {
      removed += p.value.length
      o += p.value.length
    } else {
      flush()
      o += p.value.length
    }
  }
  flush()
  return e
}

const sameRun = (a: string[], b: string[]) => a.length === b.length && a.every((l, i) => l === b[i])

/** The lines both runs inserted: the whole of one run when it starts or ends the other. */
function commonRun(a: string[], b: string[]): string[] | null {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a]
  if (sameRun(short, long.slice(0, short.length)) || sameRun(short, long.slice(long.length - short.length))) return short
  return null
}

/**
 * The base with every change both sides made identically applied; `base` itself when there is none.
 * Pure and symmetric in `ours`/`theirs`.
 */
export function commonBase(base: string, ours: string, theirs: string): string {
  if (ours === base || theirs === base) return base
  if (ours === theirs) return ours
  const lines = base.split('\n')
  const a = editsOf(lines, ours.split('\n'))
  const b = editsOf(lines, theirs.split('\n'))
  const at = new Map<number, string[]>()
  const gone = new Set<number>()
  const used = new Set<Run>()
  for (const ra of a.runs) {
    for (const rb of b.runs) {
      const gap = Math.max(ra.lo, rb.lo)
      const end = Math.min(ra.hi, rb.hi)
      if (used.has(rb) || gap > end) continue
      const run = commonRun(ra.lines, rb.lines)
      if (!run) continue
      used.add(rb)
      at.set(gap, [...(at.get(gap) ?? []), ...run])
      // The lines both replaced by it (a value both changed the same way). Other lines both deleted stay:
      // diffs align runs of like lines (each todo's `status: open`) differently on each side, and the CRDT
      // merges a deletion made twice without help.
      for (let i = gap; i < end; i++) if (a.deleted.has(i) && b.deleted.has(i)) gone.add(i)
      break
    }
  }
  if (!at.size) return base
  const out: string[] = []
  for (let i = 0; i <= lines.length; i++) {
    out.push(...(at.get(i) ?? []))
    if (i < lines.length && !gone.has(i)) out.push(lines[i]!)
  }
  return out.join('\n')
}

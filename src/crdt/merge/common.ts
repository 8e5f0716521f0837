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
 * anyway: diffs align such hunks either way). Where two runs can meet at a gap, the lines both hold, in
 * order ("C" against "C, D"; a shared new todo beside each side's own), go into the common base there, and
 * the base lines both runs replaced leave it; a shared line that would sit under other lines there than in
 * the sides is left out. The caller falls back to the plain base when the common base does not parse.
 *
 * Lines are compared with the lines that hold them (`keyed`): a diff of bare lines aligns one todo's
 * `status: open` or `one` with another's, so a side that deleted t5 and gave t4 a line t5 also ended with
 * was read as keeping t5's lines; the line both added then went into t5 in the common base and came out
 * twice (merge.test.ts seed 880), or a status both changed sat beside the one it replaced (seed 248). Keyed,
 * two new todos' `status: open` differ, which is why only whole runs were shared before.
 */
import { diffArrays } from 'diff'

interface Run {
  lo: number
  hi: number
  /** Keyed (compared), and as written (put into the common base). */
  lines: string[]
  raw: string[]
}

interface Edits {
  deleted: Set<number>
  runs: Run[]
}

/**
 * Each line prefixed with the lines that hold it (those above it at a lower indentation: its root key, its
 * list item, its block scalar's key), so that equal lines of different items differ. A comment holds
 * nothing; a blank line is held by nothing (one ends every text split at its final newline). What holds a
 * line is named by a number (`ids`, shared by the texts compared), which keeps the keys short for the diff.
 */
export function keyed(lines: string[], ids: Map<string, number> = new Map()): string[] {
  // The open lines' keys; a line's number is taken only once a line under it needs it (most hold nothing).
  const open: Array<{ indent: number; key: string; id: number }> = []
  return lines.map((l) => {
    let i = 0
    while (i < l.length && (l.charCodeAt(i) === 32 || l.charCodeAt(i) === 9)) i++
    if (i === l.length) return '\0' + l
    while (open.length && open[open.length - 1]!.indent >= i) open.pop()
    const up = open[open.length - 1]
    if (up && up.id === 0) {
      let id = ids.get(up.key)
      if (id === undefined) ids.set(up.key, (id = ids.size + 1))
      up.id = id
    }
    const key = `${up ? up.id : 0}\0${l}`
    if (l.charCodeAt(i) !== 35) open.push({ indent: i, key, id: 0 })
    return key
  })
}

function editsOf(base: string[], side: string[], raw: string[]): Edits {
  const e: Edits = { deleted: new Set(), runs: [] }
  let o = 0
  let s = 0
  let removed = 0
  let added: string[] = []
  const flush = () => {
    for (let k = o - removed; k < o; k++) e.deleted.add(k)
    if (added.length) e.runs.push({ lo: o - removed, hi: o, lines: added, raw: raw.slice(s - added.length, s) })
    removed = 0
    added = []
  }
  for (const p of diffArrays(base, side)) {
    if (p.added) {
      added = added.concat(p.value)
      s += p.value.length
    } else if (p.removed) {
      removed += p.value.length
      o += p.value.length
    } else {
      flush()
      o += p.value.length
      s += p.value.length
    }
  }
  flush()
  return e
}

interface Shared {
  raw: string[]
  keys: string[]
}

/**
 * The lines both runs inserted, in their order: those the two have in common, keyed (so each new todo's
 * `status: open` differs by its todo). Blank lines alone are no change to share.
 */
function commonRun(a: Run, b: Run): Shared | null {
  const out: Shared = { raw: [], keys: [] }
  let i = 0
  for (const p of diffArrays(a.lines, b.lines)) {
    const n = p.count ?? p.value.length
    if (!p.added && !p.removed) {
      out.raw.push(...a.raw.slice(i, i + n))
      out.keys.push(...p.value)
    }
    if (!p.added) i += n
  }
  return out.raw.some((l) => l.trim() !== '') ? out : null
}

/**
 * The base with every change both sides made identically applied; `base` itself when there is none.
 * Pure and symmetric in `ours`/`theirs`.
 */
export function commonBase(base: string, ours: string, theirs: string): string {
  if (ours === base || theirs === base) return base
  if (ours === theirs) return ours
  const lines = base.split('\n')
  const ids = new Map<string, number>()
  const k = keyed(lines, ids)
  const [oa, ob] = [ours.split('\n'), theirs.split('\n')]
  const a = editsOf(k, keyed(oa, ids), oa)
  const b = editsOf(k, keyed(ob, ids), ob)
  // Pairs whose shared lines would sit under other lines in the common base than in the sides (a shared end
  // of two new todos, "new" under each's `description: |`, put after another todo's lines): left out.
  const refused = new Set<string>()
  for (;;) {
    const at = new Map<number, Array<{ run: Shared; pair: string }>>()
    const gone = new Set<number>()
    const used = new Set<Run>()
    for (const [ia, ra] of a.runs.entries()) {
      for (const [ib, rb] of b.runs.entries()) {
        const gap = Math.max(ra.lo, rb.lo)
        const end = Math.min(ra.hi, rb.hi)
        const pair = `${ia}:${ib}`
        if (used.has(rb) || gap > end || refused.has(pair)) continue
        const run = commonRun(ra, rb)
        if (!run) continue
        used.add(rb)
        at.set(gap, [...(at.get(gap) ?? []), { run, pair }])
        // The lines both replaced by it (a value both changed the same way). Other lines both deleted stay:
        // diffs align runs of like lines differently on each side, and the CRDT merges a deletion made
        // twice without help.
        for (let i = gap; i < end; i++) if (a.deleted.has(i) && b.deleted.has(i)) gone.add(i)
        break
      }
    }
    if (!at.size) return base
    const out: string[] = []
    const want: Array<{ key: string; pair: string } | null> = []
    for (let i = 0; i <= lines.length; i++) {
      for (const { run, pair } of at.get(i) ?? []) {
        out.push(...run.raw)
        want.push(...run.keys.map((key) => ({ key, pair })))
      }
      if (i < lines.length && !gone.has(i)) {
        out.push(lines[i]!)
        want.push(null)
      }
    }
    const got = keyed(out, ids)
    const bad = want.flatMap((w, i) => (w && w.key !== got[i] ? [w.pair] : []))
    if (!bad.length) return out.join('\n')
    for (const p of bad) refused.add(p)
  }
}

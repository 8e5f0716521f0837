/**
 * What a save's own lines say about the text it was made from (`recent.ts` `baseFor`): lines only a newer
 * text has, places a peer changed that the save still shows as before, items a newer text added. Line
 * evidence only, on texts; nothing here parses YAML.
 */
import { diffLines } from 'diff'

/**
 * Does `save` hold a line that `newer` has and `older` has nowhere? Compared without indentation (a save that
 * re-indents the whole file still holds them). Only lines new to the whole file count: a line like
 * `status: todo` that `older` holds already may well be typed again in a stale buffer.
 */
export function holdsNewer(older: string, newer: string, save: string, known: Known): boolean {
  // A bare key (`priority:`), a bare item or a short line is typed anywhere, any time: no evidence.
  const lines = (t: string) => new Set(t.split('\n').map((l) => l.trim()).filter((l) => l.length >= 8 && !/^(- )?[^\s:]+:$/.test(l)))
  const [o, s] = [lines(older), lines(save)]
  for (const l of lines(newer)) if (!o.has(l) && s.has(l) && !otherItemUnder(l, newer, save, known)) return true
  return false
}

/** The other lines (trimmed) of the item whose first line, trimmed, is `head`; null when `text` has none. */
function itemBody(text: string, head: string): Set<string> | null {
  const ls = text.split('\n')
  const i = ls.findIndex((l) => l.trim() === head)
  if (i < 0) return null
  const col = ls[i]!.length - ls[i]!.trimStart().length
  const body = new Set<string>()
  for (let k = i + 1; k < ls.length; k++) {
    const l = ls[k]!
    if (l.trim() === '') continue
    if (l.length - l.trimStart().length <= col) break
    body.add(l.trim())
  }
  return body
}

/**
 * Is `line`, the first line of an item in `newer`, in `save` as the first line of another item? Two agents
 * adding the next free id each write the same first line (`- id: T-9`), and read as holding the peer's item
 * the save was an edit of it: its values replaced the peer's with no record (black-box tester). The save
 * holds the peer's item only if more than half of its other lines are in it too (`match.ts` tells an item
 * whose identity changed likewise). Not for an item an earlier text showed (`known`): one deleted and added
 * again under its id, rewritten whole, is that item (a deleter replacing a revived todo ends its conflict).
 */
export type Known = (trimmedLine: string) => boolean
function otherItemUnder(line: string, newer: string, save: string, known: Known): boolean {
  const head = line.trim()
  if (!/^- [\w-]+:\s*\S/.test(head) || known(head)) return false
  const [theirs, mine] = [itemBody(newer, head), itemBody(save, head)]
  if (!theirs?.size || !mine) return false
  let same = 0
  for (const l of theirs) if (mine.has(l)) same++
  return same * 2 <= Math.max(theirs.size, mine.size)
}

/**
 * Can `save` have been made from `older` rather than `newer`? Nearer by changed lines is not enough when
 * the save rewrote the places where the two differ: a region replaced whole reads nearer to whichever text
 * had fewer lines there (a scalar typed over a list a peer had re-indented read as a stale save, and kept
 * the peer's item: edit generator seed 606705). It can when, at one place the peers changed, it still holds
 * a line only `older` has there, or it holds neither side but some of the few (not blank) lines around;
 * a place where it holds a line only `newer` has speaks for `newer` (even a short one like `---`).
 */
const CONTEXT = 3

export function keepsPeerPlace(older: string, newer: string, save: string, known: Known): boolean {
  const inSave = new Set(save.split('\n').filter((l) => l.trim().length > 0))
  const [inOlder, inNewer] = [new Set(older.split('\n')), new Set(newer.split('\n'))]
  const parts = diffLines(older, newer)
  const lines = (i: number) => (parts[i]?.value.split('\n') ?? []).filter((l) => l.trim().length > 0)
  let neutral = false
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!
    if (!p.added && !p.removed) continue
    const side = lines(i)
    if (p.removed && side.some((l) => !inNewer.has(l) && inSave.has(l))) return true
    if (p.added && side.some((l) => !inOlder.has(l) && inSave.has(l) && !otherItemUnder(l, newer, save, known))) continue
    if ([...lines(i - 1).slice(-CONTEXT), ...lines(i + 1).slice(0, CONTEXT)].some((l) => inSave.has(l))) neutral = true
    // No line around (the peer changed every line of a small file): a line of the save that is an edit of
    // the line only `older` has here, nearer it than anything `newer` put in its place, was typed over
    // `older` (stale-save seed 880017: `decisions: "was a list"` → `"was a list mine"`, the peer's value and
    // its note beside it were lost, with no record).
    else if (p.removed && editedHere(side.filter((l) => !inNewer.has(l)), parts[i + 1]?.added ? lines(i + 1) : [], save, inOlder, inNewer)) neutral = true
  }
  return neutral
}

/** Does `save` hold a line of its own that is an edit of one of `olderLines` rather than of `newerLines`? */
function editedHere(olderLines: string[], newerLines: string[], save: string, inOlder: Set<string>, inNewer: Set<string>): boolean {
  if (!olderLines.length) return false
  const own = save.split('\n').filter((l) => l.trim().length > 0 && !inOlder.has(l) && !inNewer.has(l))
  // Quotes typed around a value say nothing of which text it was edited from (a plain `flattened` edited to
  // `"flattened mine"` shares no suffix and a prefix only up to the quote: stale-save seed 348825).
  return own.some((l) => {
    const o = Math.max(...olderLines.map((x) => near(l, x)))
    return o >= 0.5 && newerLines.every((x) => near(l, x) < o)
  })
}

/** How alike two lines are: their common start and end, quotes around a value aside, over the longer. */
function near(qx: string, qy: string): number {
  const [x, y] = [unquoted(qx), unquoted(qy)]
  let p = 0
  while (p < x.length && p < y.length && x[p] === y[p]) p++
  let q = 0
  while (q < x.length - p && q < y.length - p && x[x.length - 1 - q] === y[y.length - 1 - q]) q++
  return (p + q) / Math.max(x.length, y.length)
}

/** A `key: value` line with the quotes around its value taken off. */
const unquoted = (l: string) => l.replace(/^(\s*(?:- )?[^\s'"#][^:]*:\s+)(["'])(.*)\2\s*$/, '$1$3')

/**
 * Does `save` hold a line the peers replaced or removed going from `older` to `newer` (one `newer` has
 * nowhere)? For a save as near both texts (`nearest`'s tie): a stale save that moved the item a peer edited
 * rewrote the item's lines either way, so the tie went to the newer text and the peer's value was undone
 * on every peer, with no record (black-box tester, issue 13; stale-save generator 'move' cases). Trimmed; a
 * bare key or a short line is typed anywhere and says nothing.
 */
export function holdsOlder(older: string, newer: string, save: string): boolean {
  const trimmed = (t: string) => t.split('\n').map((l) => l.trim())
  const [inNewer, inSave] = [new Set(trimmed(newer)), new Set(trimmed(save))]
  for (const p of diffLines(older, newer)) {
    if (!p.removed) continue
    if (trimmed(p.value).some((l) => l.length >= 8 && !/^(- )?[^\s:]+:$/.test(l) && !inNewer.has(l) && inSave.has(l))) return true
  }
  return false
}

/**
 * Does `save` lack an item that `newer` added to `older`? Items are told by their first line (`- id: d3`,
 * `  - name: x`): `newer` has more first lines with that key at that indentation than `older` (an item
 * was added, not a value changed), and one of its new first lines is nowhere in `save`.
 */
export function dropsNewer(older: string, newer: string, save: string, known: Known): boolean {
  const lines = (t: string) => t.split('\n').map((l) => l.trimEnd())
  const keyOf = (l: string) => /^(\s*- [\w-]+):\s*\S/.exec(l)?.[1] ?? null
  const count = (ls: string[]) => {
    const n = new Map<string, number>()
    for (const l of ls) {
      const k = keyOf(l)
      if (k !== null) n.set(k, (n.get(k) ?? 0) + 1)
    }
    return n
  }
  const [o, nw, sv] = [lines(older), lines(newer), lines(save)]
  const [co, cn] = [count(o), count(nw)]
  const [inOlder, inSave] = [new Set(o), new Set(sv)]
  for (const l of nw) {
    const k = keyOf(l)
    if (k !== null && (cn.get(k) ?? 0) > (co.get(k) ?? 0) && !inOlder.has(l) && (!inSave.has(l) || otherItemUnder(l, newer, save, known))) return true
  }
  return false
}


/**
 * Did `newer` only add lines to `older` (none removed), and does `save` hold none of them, nor a line of its
 * own that reads as an edit of one (`near`: `note: x` typed over as `note: y` is an edit of the newer)? Lines
 * `older` has elsewhere too (a blank line) say nothing. For a tie at a small file's end: the peer appended a
 * key, a comment or `...`, the stale buffer appended its own there; read as an edit of the peer's text, the
 * save deleted the peer's lines with no record (stale-save generator seeds 2 and 4, 'not taken as stale').
 */
export function lacksAdded(older: string, newer: string, save: string): boolean {
  const [inOlder, inNewer, inSave] = [new Set(older.split('\n')), new Set(newer.split('\n')), new Set(save.split('\n'))]
  const own = [...inSave].filter((l) => l.trim() !== '' && !inOlder.has(l) && !inNewer.has(l))
  let lacks = false
  for (const p of diffLines(older, newer, { ignoreNewlineAtEof: true })) {
    if (p.removed) return false
    if (!p.added) continue
    for (const l of p.value.replace(/\n$/, '').split('\n')) {
      if (inOlder.has(l)) continue
      if (inSave.has(l) || (l.trim() !== '' && own.some((m) => near(m, l) >= 0.5))) return false
      lacks = true
    }
  }
  // Blank lines are alike, so told by their count: the peer's blank line appended where the save appended a
  // key went with no record (stale-save seed 32). Typed over with the key instead, the older reading leaves a
  // blank line more: nothing lost.
  const blanks = (t: string) => t.split('\n').filter((l) => l.trim() === '').length
  return lacks || (blanks(newer) > blanks(older) && blanks(save) <= blanks(older))
}

/**
 * The save replaced a line `newer` got since `older` (the peers wrote it, the save has it nowhere): made from
 * `older`, its value overwrote a peer's — recorded; made from `newer`, it reads as a person editing what they
 * saw — no record. When both are as near the save and both are stale bases (black-box tester, stop 30,
 * finding 3: a buffer of V0 saved with A changed after a peer set A and then B; the tie went to the text with
 * the peer's A and its value vanished with no record), the reading that loses nothing is the older one.
 */
export function replacesPeerLine(older: string, newer: string, save: string, own?: ReadonlySet<string>): boolean {
  const was = new Set(older.split('\n'))
  const mine = new Set(save.split('\n'))
  // `own`: lines the person's own saves between added, no peer's (`recentown.ts` ownLines).
  return newer.split('\n').some((l) => l.trim() !== '' && !was.has(l) && !mine.has(l) && !own?.has(l))
}

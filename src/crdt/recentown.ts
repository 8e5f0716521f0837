/**
 * A save made from a text older than this machine's own later save (`recent.ts` baseFor, black-box tester
 * stop 31, finding 5): two editors of one file, or an agent that read it a while ago. Editor 2 saves a
 * change; editor 1, its buffer from before, saves a change elsewhere. Read as an edit of the newest text (as
 * a plain file would be), editor 2's change was taken back on every peer, said only "your edit taken in".
 *
 * The bytes cannot tell this from one editor's undo back past its own save: undo, then an edit. The rule
 * (`beforeOwnSave`): a save nearer a text before the person's own later saves, whose change touches none of
 * the places those saves changed (`touches`), is a stale save of that text — when those saves only changed
 * lines in place (`inPlace`: values edited, as many lines out as in). Their values are kept and named as the
 * person's own ("set it again if you meant it"); a second save goes through. Lines they added or removed are
 * not kept so: one editor's "add an item, save; delete it and change a value elsewhere, save" reads just
 * like it, and the item came back (1b0027c, which had no `inPlace`: e2e faults relay seed 339886, a peer's
 * deletion of its own new item, coalesced with a status change, kept twice). Those stay an edit of the
 * newest, said when at the same place (`takesBackOwn`). Past a peer's write: `recent.ts` ownAfter.
 */
import { diffLines } from 'diff'
import { changedLines } from './linedistance.js'
import { holdsNewer, replacesPeerLine, type Known } from './saveevidence.js'

export interface RingText {
  text: string
  ours: boolean
  used?: boolean
  cut?: boolean
}

/**
 * Index in `list` (oldest first, the newest last, a save of the person's own) of the text `text` was made
 * from when that is older than the person's own saves at the end of the ring; -1 when none is (the header).
 */
export function beforeOwnSave(list: readonly RingText[], text: string, known: Known): number {
  const n = list.length
  const newest = list[n - 1]
  if (!newest || newest.ours || newest.cut || list.some((h) => h.text === text)) return -1
  // The person's own saves since our last write (or since the first text): the candidates are the texts
  // before each of them.
  let from = n - 1
  while (from > 0 && !list[from - 1]!.ours && !list[from - 1]!.cut) from--
  from = Math.max(0, from - 1)
  let best = -1
  let bestD = changedLines(newest.text, text) ?? Infinity
  for (let i = n - 2; i >= from; i--) {
    const o = list[i]!
    if (o.used || o.cut || o.text === newest.text) continue
    const d = changedLines(o.text, text, bestD - 1)
    if (d !== undefined && d < bestD) [best, bestD] = [i, d]
  }
  if (best < 0) return -1
  const older = list[best]!.text
  return !inPlace(older, newest.text) || holdsNewer(older, newest.text, text, known) || touches(older, newest.text, text) ? -1 : best
}

/** Did `later` change `older` only in place: at each changed place as many lines removed as added? */
export function inPlace(older: string, later: string): boolean {
  let out = 0
  for (const p of diffLines(older, later)) {
    if (p.removed) out += p.count ?? 0
    else if (p.added) out -= p.count ?? 0
    else if (out !== 0) return false
  }
  return out === 0
}

/**
 * What the person's own saves since our last write added, when `text` (read as an edit of the newest: the
 * changes touch) lacks all of it and adds lines of its own at that place instead: two editors appending at
 * one place, or one editor's "add X, save, undo, add Y, save" (the bytes cannot tell, `touches`). The
 * added lines, not blank, trimmed; none otherwise. Said with the take-in, and how to bring them back.
 */
export function takesBackOwn(list: readonly RingText[], text: string): string[] {
  const n = list.length
  const newest = list[n - 1]
  if (!newest || newest.ours || newest.cut || n < 2) return []
  let from = n - 1
  while (from > 0 && !list[from - 1]!.ours && !list[from - 1]!.cut) from--
  const older = list[Math.max(0, from - 1)]!.text
  if (older === newest.text || older === text) return []
  const added: string[] = []
  for (const p of diffLines(older, newest.text)) {
    if (p.removed) return []
    if (p.added) added.push(...p.value.split('\n').map((l) => l.trim()).filter((l) => l !== ''))
  }
  const inSave = new Set(text.split('\n').map((l) => l.trim()))
  if (!added.length || added.some((l) => inSave.has(l)) || !touches(older, newest.text, text)) return []
  return diffLines(older, text).some((p) => p.added && p.value.trim() !== '') ? added : []
}

/**
 * Do the changes from `older` to `save` touch those from `older` to `later`: overlap, or meet at a line
 * boundary? Two insertions at one place do too: one editor's "add X, save, undo, add Y, save" reads so (the
 * tester's S1, S2 story), as do two editors each appending an item — left an edit of the newest (open).
 */
export function touches(older: string, later: string, save: string): boolean {
  const [a, b] = [hunks(older, later), hunks(older, save)]
  return a.some(([s, e]) => b.some(([t, f]) => s <= f && t <= e))
}

/** The places `to` changed `from`, as ranges of `from`'s lines ([at, at] for an insertion). */
function hunks(from: string, to: string): Array<[number, number]> {
  const out: Array<[number, number]> = []
  let at = 0
  for (const p of diffLines(from, to)) {
    const k = p.count ?? 0
    if (p.removed) out.push([at, at + k])
    else if (p.added) out.push([at, at])
    if (!p.added) at += k
  }
  return out
}

/**
 * Adds to `own` the lines the person's save `save` (a text taken in, not ours) has and `before`, the text
 * before it, has not. Read from a text before that save, a stale save of a copy taken after it overwrote the
 * person's own value, recorded as a race with themselves, and the tie rule (`replacesPeerLine`) took that
 * older text for the peer's line it saw (black-box tester stop 32, finding 4: consecutive stale saves).
 */
export function ownLines(before: string, save: string, own = new Set<string>()): Set<string> {
  const was = new Set(before.split('\n'))
  for (const l of save.split('\n')) if (!was.has(l)) own.add(l)
  return own
}

/** `replacesPeerLine` from the ring's text `a` to its later text `b` (indexes in `list`), the own saves' lines between not counted. */
export function replacesPeerLineIn(list: readonly RingText[], a: number, b: number, save: string): boolean {
  return replacesPeerLine(list[a]!.text, list[b]!.text, save, ownLinesIn(list, a, b))
}

/** `ownLines` of each of the person's saves after the ring's text `a` up to its text `b` (indexes in `list`). */
export function ownLinesIn(list: readonly RingText[], a: number, b: number): Set<string> {
  const own = new Set<string>()
  for (let i = a + 1; i <= b; i++) if (!list[i]!.ours) ownLines(list[i - 1]!.text, list[i]!.text, own)
  return own
}

/**
 * `texts` (older texts, newest first, the first older than `first`), each with whether the text after it is
 * one of the person's saves (not ours), adding to `own` those saves' lines (`ownLines`).
 */
export function* withOwnLines<T extends { text: string; ours: boolean }>(first: { text: string; ours: boolean }, texts: Iterable<T>, own: Set<string>): Generator<[T, boolean]> {
  let next = first
  for (const o of texts) {
    if (!next.ours) ownLines(o.text, next.text, own)
    const saved = !next.ours
    next = o
    yield [o, saved]
  }
}

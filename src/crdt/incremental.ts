/**
 * Re-parsing only what an edit touched. A full parse of a 1 MB file costs about half a second; an edit
 * usually changes one todo. From the common prefix and suffix of the old and new text we find the
 * smallest run of block entries (inside the deepest block collection) that contains the change, parse
 * the new text of that run alone — a run of entries at a column is a valid YAML document by itself — and
 * splice the result into the previous IR, sharing every untouched entry object (the diff skips those).
 *
 * The shortcut is taken only when it is safe to judge the run alone; otherwise the caller parses the
 * whole text: when the file holds aliases (an edit may change what they point at), when the change
 * reaches the document's head or trail, when the file does not end with a newline, when the run does not parse as the same kind
 * of collection at the same column, when it leaves text after its entries, or when a key it introduces
 * already exists outside it.
 */
import type { Child, DocIR, MapEntry, Node, SeqItem } from './ir.js'
import { parseYaml } from './parse.js'

type BlockChild = MapEntry | SeqItem
type BlockColl = Extract<Node, { t: 'map' | 'seq' }>

export type Span = [number, number]
/** Where a block entry sits in the text an IR stands for (entries are shared, so spans live outside). */
export type SpanOf = (c: Child) => Span | undefined

/** Spans as the parser recorded them on the entries it created. */
export const parsedSpans: SpanOf = (c) => c.span

export interface Spliced {
  ir: DocIR
  /** Spans of the new IR in the new text. */
  spanOf: SpanOf
}

const kids = (n: Node): BlockChild[] | null => (n.t === 'map' ? n.entries : n.t === 'seq' ? n.items : null)

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

function commonSuffix(a: string, b: string, max: number): number {
  let i = 0
  while (i < max && a.charCodeAt(a.length - 1 - i) === b.charCodeAt(b.length - 1 - i)) i++
  return i
}

const BLOCK_SCALAR = /(^|[\s:-])[|>][-+0-9]*[ \t]*(#.*)?\r?$/m
const KEEP_CHOMP = /(^|[\s:-])[|>](\d?\+|\+\d)[ \t]*(#.*)?\r?$/m
const lineStart = (t: string, i: number) => i === 0 || t.charCodeAt(i - 1) === 10

interface Level {
  coll: BlockColl
  /** The entry whose value is `coll` (null for the root). */
  owner: BlockChild | null
  col: number
}

export function incrementalParse(baseText: string, base: DocIR, text: string, spanOf: SpanOf = parsedSpans): Spliced | null {
  const sp = (c: Child): Span => spanOf(c)!
  if (base.aliases || !base.root || !kids(base.root)) return null
  // A file without a final newline records it at its very end (see NO_FINAL_NEWLINE): parse it whole.
  if (!baseText.endsWith('\n') || !text.endsWith('\n')) return null
  // The unchanged tail is whole lines in both texts. A tail matched from mid-line is ambiguous: deleting a
  // blank line after `c: 4\n` leaves the same last characters, but the `\n` the tail starts with is the
  // blank line in the old text and the end of `c: 4` in the new one; an entry judged untouched there would
  // keep the blank line in its head and bring it back. (The head needs no such care: an entry never ends
  // mid-line, so one ending before a mid-line change is untouched in both.)
  const p = commonPrefix(baseText, text)
  let q = commonSuffix(baseText, text, Math.min(baseText.length, text.length) - p)
  while (q > 0 && !(lineStart(baseText, baseText.length - q) && lineStart(text, text.length - q))) q--
  const a = p
  const b = baseText.length - q
  const delta = text.length - baseText.length

  // Descend to the deepest block collection whose entries contain [a, b) as a contiguous run.
  const levels: Level[] = []
  let coll = base.root as BlockColl
  let owner: BlockChild | null = null
  let range: [number, number] | null = null
  for (;;) {
    const cs = kids(coll)!
    if (cs.length === 0 || cs.some((c) => !spanOf(c))) break
    const first = sp(cs[0]!)
    const last = sp(cs[cs.length - 1]!)
    if (a < first[0] || b > last[1]) break
    let i = -1
    for (let k = 0; k < cs.length; k++) if (sp(cs[k]!)[0] <= a) i = k
    let j = cs.length
    for (let k = cs.length - 1; k >= 0; k--) if (sp(cs[k]!)[1] >= b) j = k
    if (i < 0 || j >= cs.length) break
    if (i > j) i = j // an insertion exactly between two entries joins the earlier one
    const col = columnOf(baseText, sp(cs[i]!)[0])
    if (col === null) break
    levels.push({ coll, owner, col })
    range = [i, j]
    const only = cs[i]!
    const inner = i === j ? kids(only.value) : null
    if (!inner || inner.length === 0 || inner.some((c) => !spanOf(c))) break
    if (a < sp(inner[0]!)[0] || b > sp(inner[inner.length - 1]!)[1]) break
    owner = only
    coll = only.value as BlockColl
  }
  // Climb until the run starts on a line of its own (the first entry of `- id: x` shares the dash's line).
  while (levels.length > 0) {
    const lv = levels[levels.length - 1]!
    const [i] = range!
    const s = sp(kids(lv.coll)![i]!)[0]
    if (s === 0 || baseText.charCodeAt(s - 1) === 10) break
    levels.pop()
    if (levels.length === 0) return null
    const up = levels[levels.length - 1]!
    const idx = kids(up.coll)!.indexOf(lv.owner!)
    range = [idx, idx]
  }
  if (levels.length === 0 || !range) return null
  const lv = levels[levels.length - 1]!
  const cs = kids(lv.coll)!
  const [i, j] = range
  const s = sp(cs[i]!)[0]
  const e = sp(cs[j]!)[1] + delta
  if (e < s || e < text.length - q) return null

  // A keep-chomped block scalar (`|+`, `>2+`) owns the blank lines after it, which a run judged alone
  // hands to the next entry: the whole text decides where they belong.
  if (KEEP_CHOMP.test(text.slice(s, e)) || KEEP_CHOMP.test(baseText.slice(s, sp(cs[j]!)[1]))) return null
  // The same from the other side: blank lines that start the run follow the entry before it, and if that
  // ends in a keep-chomped scalar they are its content (the run alone made them the head of its first entry).
  if (i > 0 && /^[ \t]*\r?\n/.test(text.slice(s, s + 256)) && KEEP_CHOMP.test(baseText.slice(...sp(cs[i - 1]!)))) return null
  // A block scalar ending the run takes in the comment lines after it that are indented deeper than the
  // run's entries: in the whole text they are its content, not the next entry's head, which the run judged
  // alone would leave them in (a value turned block scalar above an indented comment lost its last line).
  // The same from the other side: such lines typed at the start of the run continue a block scalar that
  // ends the entry before it.
  // Whitespace-only lines count too: one at least as long as the scalar's indentation is its content in the
  // whole text (`a: |-\n  x\n    \nb:`), where the run alone put it in the next entry's head, and the model
  // then held it in both places once a whole parse met it (issue 13 class B: a whitespace line doubled).
  const deeper = (from: number) => {
    for (let i = from; ; ) {
      let k = i
      while (k < text.length && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9)) k++
      if (k - i > lv.col) return true
      if (k >= text.length || !(text[k] === '\n' || (text[k] === '\r' && text[k + 1] === '\n'))) return false
      i = text.indexOf('\n', k) + 1
    }
  }
  if (deeper(e) && BLOCK_SCALAR.test(text.slice(s, e))) return null
  if (i > 0 && deeper(s) && BLOCK_SCALAR.test(baseText.slice(...sp(cs[i - 1]!)))) return null
  let part: DocIR
  try {
    part = parseYaml(text.slice(s, e))
  } catch {
    return null // the whole text decides: held with the right line, or refused
  }
  if (part.aliases || part.trail !== '' || !part.root || part.root.t !== lv.coll.t) return null
  // Markers or directives typed into the run belong to the document: only a full parse can judge them.
  if (/^(---|\.\.\.|%)/m.test(part.head)) return null
  const fresh = [...kids(part.root)!]
  if (fresh.length === 0 || (part.root as BlockColl).indent !== lv.col) return null
  // Lines above the document's first entry are the document's head in a whole parse: put into the entry's
  // head here, the model would hold them split otherwise than the next whole parse of the same text does,
  // and a later edit of that head would leave the entry's copy behind (a blank line doubled).
  if (part.head !== '' && levels.length === 1 && i === 0) return null
  // A new object, not an edit: parsing rendered the entry already, and rendered entries are immutable.
  fresh[0] = { ...fresh[0]!, head: part.head + fresh[0]!.head }
  if (lv.coll.t === 'map') {
    const outside = new Set([...cs.slice(0, i), ...cs.slice(j + 1)].map((c) => (c as MapEntry).key))
    if ((fresh as MapEntry[]).some((c) => outside.has(c.key))) return null
  }
  const parsed = new WeakSet<Child>()
  for (const c of fresh) mark(c, parsed)

  // Rebuild the path from the root with new objects; everything off the path is shared with `base`.
  const copies = new Map<Child, Span>()
  let rebuilt: Node = withKids(lv.coll, [...cs.slice(0, i), ...fresh, ...cs.slice(j + 1)])
  for (let k = levels.length - 1; k > 0; k--) {
    const own = levels[k]!.owner!
    const parent = levels[k - 1]!.coll
    const pk = kids(parent)!
    const at = pk.indexOf(own)
    const copy: BlockChild = { ...own, value: rebuilt }
    const os = sp(own)
    copies.set(copy, [os[0], os[1] + delta])
    rebuilt = withKids(parent, [...pk.slice(0, at), copy, ...pk.slice(at + 1)])
  }
  return {
    ir: { ...base, root: rebuilt },
    spanOf: (c) => {
      if (parsed.has(c)) return c.span ? [c.span[0] + s, c.span[1] + s] : undefined
      const copied = copies.get(c)
      if (copied) return copied
      const was = spanOf(c)
      // Shared entries lie wholly before the change or wholly after it.
      return was && was[0] >= b ? [was[0] + delta, was[1] + delta] : was
    },
  }
}

/** The column of the entries of `coll`, read at an entry that starts a line (null when it does not). */
function columnOf(text: string, spanStart: number): number | null {
  let k = spanStart
  // Skip the head (comment and blank lines) to the entry's own line.
  for (;;) {
    const nl = text.indexOf('\n', k)
    const line = text.slice(k, nl < 0 ? text.length : nl)
    const trimmed = line.trimStart()
    if (trimmed === '' || trimmed.startsWith('#')) {
      if (nl < 0) return null
      k = nl + 1
      continue
    }
    return line.length - trimmed.length
  }
}

function withKids(coll: BlockColl, children: BlockChild[]): BlockColl {
  return coll.t === 'map' ? { ...coll, entries: children as MapEntry[] } : { ...coll, items: children as SeqItem[] }
}

function mark(c: Child, set: WeakSet<Child>): void {
  set.add(c)
  const inner = kids(c.value)
  if (inner) for (const k of inner) mark(k, set)
}

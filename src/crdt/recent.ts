/**
 * The recent texts a file held, so that a save is diffed against the text it was made from (issue 13 item 3).
 *
 * An editor buffer or an agent that read the file a while ago saves text made from an *older* version: vim
 * warns that the file changed, the user writes anyway. Diffed against the last text the file held, every
 * change peers made since (and ctxsync wrote into the file) reads as the user undoing it: a peer's new
 * decision vanished on every clone, with no conflict. So the model keeps the last few texts (renderings it
 * gave the file, texts it took in), each with its IR annotated with node ids, and a save is diffed against
 * the one it was most likely made from: the nearest by changed lines (`nearest`), ties to the newest.
 * A save made from an old text then yields operations on the node ids that text showed; what peers added
 * or changed since is simply not in it, so it is untouched.
 *
 * Rules (each exists because a plain "nearest" reads some everyday edit wrongly):
 *  - Only a text followed by one of *our* writes can be a stale base. When the file changed since only by
 *    the user's own saves, the newest text is the base: an undo back to an earlier save is an edit, not a
 *    stale save (diffing it against the earlier text would ignore it).
 *  - A save made from an older text cannot hold a line typed after it: a save that holds a line the file
 *    gained since that text (one the newest text has and the older has nowhere) was made from a later
 *    text, however near it reads — it is an edit of the newest (often one undoing part of a peer's change).
 *    Read as stale, it would re-author every item added since (doubling those without identity).
 *  - A save near (or equal to) an older text is ambiguous: a stale buffer, or a person deliberately removing
 *    what a peer added (the file then reads just like the older text). Data is kept first (stale), but each
 *    text serves as a stale base at most once, and a stale save's own text never does: when the person
 *    sees the peer's change come back and removes it again, that save is diffed against the newest text
 *    (our rewrite) and the removal goes through. A deliberate removal thus takes one extra save and never
 *    becomes impossible; the daemon says what it kept. The price: a buffer that ignores two of our
 *    rewrites in a row (saved over the merge of its own stale save without reloading) is taken as
 *    deliberate the second time.
 *
 * Bounded: at most MAX_RECENT texts, and no more than a few times the file's size (BUDGET_FACTOR) beyond
 * the newest. A stale save comes from a buffer a few rewrites old (seconds to minutes in a live session),
 * so a handful suffices; each text also costs its IR (several times its size), and a daemon keeps this for
 * every tracked file, so a large file keeps fewer.
 *
 * Used by `FileModel.ingest`, and after a restart by `reconcile.ts` (the texts meta kept: the file's text
 * while the model was ahead, the text being written) — one way to choose, in process and across restarts.
 */
import { diffLines } from 'diff'
import * as Y from 'yjs'
import { slotsOf, type DocIR } from './ir.js'
import { parsedSpans, type SpanOf } from './incremental.js'
import { parseYaml } from './parse.js'
import { annotate } from './annotate.js'
import { fillDerivedIds } from './reannotate.js'
import type { Rules } from './rules.js'

export interface Held {
  text: string
  /** The parse of `text` (or the IR it was rendered from, see `parsed`), annotated with node ids. */
  ir: DocIR
  /** `ir` is the parse of `text` (a rendering's IR may differ from its parse where render repaired it). */
  parsed: boolean
  spanOf: SpanOf
  /** We gave the file this text (a rendering holding changes the user had not made), not took it in. */
  ours: boolean
  /** The document's state vector when the file held this text; unknown for texts restored after a restart. */
  sv?: Map<number, number>
  /** Has served as the base of a stale save (see the rules above). */
  used?: boolean
  /** A file found emptied or cut short, and left so for the hold: taken in as it was (see the rules above). */
  cut?: boolean
}

export const MAX_RECENT = 8
const BUDGET_FACTOR = 4
const BUDGET_SLACK = 64 * 1024

/**
 * Lines changed between two texts: per run of changes, the larger of lines removed and lines added (a line
 * edited in place counts one, as a line added does: counting it twice made a save that edits a line a peer
 * added look nearer to the text before the peer's change). Undefined when more than `max` (the search then
 * gives up early: an older text only displaces a nearer one).
 */
export function changedLines(from: string, to: string, max?: number): number | undefined {
  if (from === to) return 0
  // Lines added after a last line that had no newline leave that line as it was: counted as changed, the
  // save read one line farther from the text it was made from than from an older one (edit generator seed
  // 653442: a `...` typed after a peer removed the final newline was taken as a stale save; the head
  // comment went).
  if (!from.endsWith('\n') && to.startsWith(from + '\n')) from += '\n'
  // The diff's own bound counts lines removed plus added, at most twice ours.
  const parts = max === undefined ? diffLines(from, to) : diffLines(from, to, { maxEditLength: 2 * Math.max(0, max) + 1 })
  if (!parts) return undefined
  let n = 0
  let run = [0, 0]
  for (const c of parts) {
    if (c.added) run[1] += c.count ?? 1
    else if (c.removed) run[0] += c.count ?? 1
    else {
      n += Math.max(run[0]!, run[1]!)
      run = [0, 0]
    }
  }
  n += Math.max(run[0]!, run[1]!)
  return max !== undefined && n > max ? undefined : n
}


/** Index of the candidate nearest to `text`: fewest changed lines; a tie goes to the newer one. */
export function nearest(candidates: readonly string[], text: string): number {
  let best = -1
  let bestD = Infinity
  for (let i = candidates.length - 1; i >= 0; i--) {
    const c = candidates[i]!
    const d = changedLines(c, text, Number.isFinite(bestD) ? bestD : undefined)
    if (d === undefined) continue
    // A tie: the save changed every line the newer text changed, and nothing in its bytes says whether it
    // was made from the newer text or the older. Read as made from the newer: where it replaced those lines
    // either reading shows the save's values, and the newer records no conflict the person never had
    // ('todo' → 'done' over a peer's 'in_progress' is usually a person editing what they see); where it
    // removed them (an item a peer just edited, deleted), the older reading would keep the item with a
    // delete conflict, and a person's plain deletion would take a second save to go through. A stale save is
    // told by the lines peers changed elsewhere.
    if (d >= bestD) continue
    ;[best, bestD] = [i, d]
    if (bestD === 0) break
  }
  return best
}

export class RecentTexts {
  #list: Held[] = []

  get newest(): Held | null {
    return this.#list[this.#list.length - 1] ?? null
  }

  get size(): number {
    return this.#list.length
  }

  /** Up to `max` texts before the newest, newest first, within `budget` characters in all. */
  older(max: number, budget: number): string[] {
    const out: string[] = []
    for (let i = this.#list.length - 2; i >= 0 && out.length < max; i--) {
      const t = this.#list[i]!.text
      if (t === this.newest!.text || out.includes(t)) continue
      if ((budget -= t.length) < 0) break
      out.push(t)
    }
    return out
  }

  /** The newest text `match` accepts. */
  find(match: (text: string) => boolean): Held | null {
    for (let i = this.#list.length - 1; i >= 0; i--) if (match(this.#list[i]!.text)) return this.#list[i]!
    return null
  }

  /** The file now holds `h.text`. The same text again refreshes the newest entry (a rendering of a save). */
  push(h: Held | null): void {
    if (!h) return
    const last = this.newest
    if (last && last.text === h.text) {
      // A stale save the model renders as saved (nothing of the peers' to add) is simply what the file holds:
      // a base like any other (`used` comes from the newer record).
      this.#list[this.#list.length - 1] = { ...h, ours: last.ours && h.ours, sv: h.sv ?? last.sv, ...(last.cut || h.cut ? { cut: true } : {}) }
      return
    }
    this.#list.push(h)
    this.trim()
  }

  /** Replaces everything with `h` (a restart, a deletion): nothing older is known. */
  reset(h: Held | null): void {
    this.#list = h ? [h] : []
  }

  /** Drops the texts after `h` (a rendering that could not be written: the file never held it). */
  backTo(h: Held): void {
    const i = this.#list.lastIndexOf(h)
    if (i >= 0) this.#list.length = i + 1
    else this.push(h)
  }

  /**
   * The text a save of `text` was made from, by the rules of the header. `stale`: an older text than the
   * newest, followed by one of our writes — what peers changed since must be kept.
   */
  baseFor(text: string): { base: Held; stale: boolean } | null {
    const list = this.#list
    const newest = this.newest
    if (!newest) return null
    let lastOurs = -1
    for (let i = list.length - 1; i >= 0 && lastOurs < 0; i--) if (list[i]!.ours) lastOurs = i
    if (newest.text === text) return { base: newest, stale: false }
    const cut = this.rewrittenCut(text)
    if (cut) return cut
    if (lastOurs <= 0) return { base: newest, stale: false }
    let before: Set<string> | null = null
    const known: Known = (l) => (before ??= new Set(list.slice(0, -1).flatMap((x) => x.text.split('\n').map((y) => y.trim())))).has(l)
    // A used-up text saved again exactly is the deliberate re-save; otherwise used-up texts are no candidates
    // (a near tie with one must not hide the text the save was really made from).
    if (list.some((h) => h.used && h.text === text)) return { base: newest, stale: false }
    // A save that is exactly an older text carries no edit of its own: a stale buffer written back unchanged
    // is rare, while a person reverting a peer's change or deleting the item a peer just added (sed, an
    // editor's undo) is common and must go through at once (found by a tester: reverts and deletions made
    // seconds after a peer's change were undone). Taken as made from the newest text.
    if (list.some((h) => h !== newest && h.text === text)) return { base: newest, stale: false }
    const open = list.filter((h) => !h.used)
    let h = open[nearest(open.map((x) => x.text), text)]
    if (h && list.indexOf(h) >= lastOurs) {
      // Nearest to our last write or later. But a save that lacks an item our last write brought, and holds
      // no line of it, reads from that write as deleting what a peer just added: an item the user
      // appended where the peer had appended one is as near the write as the text before it (the two items
      // share lines), and was lost (found by a crash test restart, then as a stale editor buffer). Read as
      // made from the older texts instead: the peer's item stays, and a deliberate deletion takes one more
      // save (the header's rule for ambiguous saves).
      const prev = list[lastOurs - 1]
      const older = open.filter((x) => list.indexOf(x) < lastOurs)
      if (!prev || !older.length || holdsNewer(prev.text, newest.text, text, known) || !dropsNewer(prev.text, list[lastOurs]!.text, text, known)) return { base: newest, stale: false }
      h = older[nearest(older.map((x) => x.text), text)]
      if (!h || holdsNewer(h.text, newest.text, text, known)) return { base: newest, stale: false }
      return { base: h, stale: true }
    }
    if (!h || holdsNewer(h.text, newest.text, text, known) || !keepsPeerPlace(h.text, newest.text, text, known)) return { base: newest, stale: false }
    return { base: h, stale: true }
  }

  /** The cut text a save of `text` completes (the header's rule); it serves once. */
  private rewrittenCut(text: string): { base: Held; stale: boolean } | null {
    const list = this.#list
    let at = list.length - 1
    while (at >= 0 && !list[at]!.cut) at--
    if (at < 0) return null
    const open = list.filter((h) => !h.used)
    const near = open[nearest(open.map((x) => x.text), text)]
    if (!near || list.indexOf(near) >= at) return null
    const cut = list[at]!
    cut.cut = false
    return { base: cut, stale: at < list.length - 1 }
  }

  private trim(): void {
    const budget = BUDGET_FACTOR * this.newest!.text.length + BUDGET_SLACK
    let bytes = this.#list.reduce((n, h) => n + h.text.length, 0)
    while (this.#list.length > MAX_RECENT || (this.#list.length > 1 && bytes > budget)) bytes -= this.#list.shift()!.text.length
  }
}

/**
 * Does `save` hold a line that `newer` has and `older` has nowhere? Compared without indentation (a save that
 * re-indents the whole file still holds them). Only lines new to the whole file count: a line like
 * `status: todo` that `older` holds already may well be typed again in a stale buffer.
 */
function holdsNewer(older: string, newer: string, save: string, known: Known): boolean {
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
type Known = (trimmedLine: string) => boolean
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

function keepsPeerPlace(older: string, newer: string, save: string, known: Known): boolean {
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
  }
  return neutral
}

/**
 * Does `save` lack an item that `newer` added to `older`? Items are told by their first line (`- id: d3`,
 * `  - name: x`): `newer` has more first lines with that key at that indentation than `older` (an item
 * was added, not a value changed), and one of its new first lines is nowhere in `save`.
 */
function dropsNewer(older: string, newer: string, save: string, known: Known): boolean {
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

/** A text meta kept, parsed and given back its node ids; null when they no longer fit. */
export function restored(text: string, ids: readonly string[], ours: boolean): Held | null {
  let ir: DocIR
  try {
    ir = parseYaml(text)
  } catch {
    return null
  }
  const slots = slotsOf(ir)
  if (slots.length !== ids.length) return null
  slots.forEach((s, i) => (s.id = ids[i]))
  return { text, ir, parsed: true, spanOf: parsedSpans, ours }
}

/**
 * `text` as a recent text: with the node ids meta kept (`ids`), else its parse matched against `ir` (the
 * model's rendering; null when there is none to match against) and, with `has`, the tree's other nodes.
 */
export function heldFor(text: string, ids: readonly string[] | null, ir: DocIR | null, rules: Rules, ours: boolean, has?: (id: string) => boolean): Held | null {
  const kept = ids ? restored(text, ids, ours) : null
  if (kept || !ir) return kept
  try {
    // What the text shows that the rendering does not (deleted since) keeps the id it had (`reannotate.ts`).
    const matched = annotate(parseYaml(text), ir, rules)
    return { text, ir: has ? fillDerivedIds(matched, has, rules) : matched, parsed: true, spanOf: parsedSpans, ours }
  } catch {
    return null
  }
}

/**
 * `h` with the document's state when the file held it (kept in meta across a restart): a save made from it
 * while peers' changes arrived is then a stale save, and what it overwrote is recorded (`FileModel.ingest`).
 */
export function withState(h: Held | null, sv: Map<number, number> | undefined): Held | null {
  return h && sv ? { ...h, sv } : h
}

/** Node ids of an IR in document order (what meta keeps of a text, to restore it with `restored`). */
export function collectIds(ir: DocIR): string[] {
  return slotsOf(ir).map((s) => s.id ?? '')
}

export const stateOf = (doc: Y.Doc): Map<number, number> => Y.decodeStateVector(Y.encodeStateVector(doc))

/**
 * The state a saved text shows when the model renders it otherwise: what the text it was made from showed
 * (`sv`), and the saver's own writes. Such a text stays the base while its rendering is not written (the
 * state incomplete, the file changed again first); read as showing the whole state, the next save
 * overwrote, with no record, a peer's value the file never showed (converge seeds 40 and 147).
 */
export const madeFrom = (sv: Map<number, number>, doc: Y.Doc): Map<number, number> => new Map([...sv, [doc.clientID, Y.getState(doc.store, doc.clientID)]])

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

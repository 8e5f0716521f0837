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
 *    stale save (diffing it against the earlier text would ignore it). Likewise past one's own later saves
 *    before our write: the save is a stale save of the last of them (`ownAfter`), not of the earlier text.
 *    Except a save nearer the earlier text that changed it elsewhere than those saves, which only edited lines
 *    in place, did: another editor's older buffer, stale from the earlier text, their values kept (`recentown.ts`).
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
 * the newest: each costs its IR (several times its size), for every tracked file. A buffer read before more
 * rewrites (tester finding 3: its save undid the peers' work between) is diffed against the texts before
 * those, kept as deltas with their node ids (`recentolder.ts`), searched only when the ring has no near one.
 *
 * Used by `FileModel.ingest`, and after a restart by `reconcile.ts` (the texts meta kept: the file's text
 * while the model was ahead, the text being written) — one way to choose, in process and across restarts.
 */
import { changedLines, nearest } from './linedistance.js'
import { dropsNewer, holdsNewer, holdsOlder, keepsPeerPlace, lacksAdded, replacesPeerLine, type Known } from './saveevidence.js'
import { slotsOf, type DocIR } from './ir.js'
import { parsedSpans, type SpanOf } from './incremental.js'
import { parseYaml } from './parse.js'
import { annotate } from './annotate.js'
import { fillDerivedIds } from './reannotate.js'
import type { Rules } from './rules.js'
import { staleByData } from './staledata.js'
import { OlderTexts } from './recentolder.js'
import { beforeOwnSave, ownLinesIn, replacesPeerLineIn, takesBackOwn, touches, withOwnLines } from './recentown.js'

export { changedLines, nearest }
export { equalBytes, madeFrom, stateOf } from './docstate.js'

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

/** A save that is exactly an older text: made from the newest, it takes back what changed since (`staletell.ts` says what). */
export interface Equals {
  /** Our writes (peers' changes written into the file) since that text; `older`: more, it was before the ring. */
  writes: number
  older?: boolean
}

/**
 * The text a save was made from; `own`: the earlier text it was near, past this machine's own later saves
 * (`ownAfter`); `beforeOwn`: an older text than one's own later save, whose change is kept (`recentown.ts`).
 */
export interface Chosen {
  base: Held
  stale: boolean
  own?: Held
  equals?: Equals
  beforeOwn?: boolean
  ownBack?: string[] // an edit of the newest taking back these lines of one's own last save (`takesBackOwn`)
}

export class RecentTexts {
  #list: Held[] = []
  /** Texts before the ring, kept as deltas (`recentolder.ts`); `held` parses one and gives it node ids when a save needs it. */
  #older = new OlderTexts()
  constructor(private readonly held?: (text: string, ids: string[], ours: boolean) => Held | null) {}
  get newest(): Held | null { return this.#list[this.#list.length - 1] ?? null }
  get size(): number { return this.#list.length }

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

  /** `h` and the texts the file held after it, oldest first; null when `h` is not in the ring (an older text's base). */
  from(h: Held): Held[] | null {
    const i = this.#list.indexOf(h)
    return i < 0 ? null : this.#list.slice(i)
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
    // A BOM the person's own save added or removed: their buffer is no older than that save (an older text,
    // nearer by that line, made the BOM's removal a stale save of it, not taken in: tester finding 9b).
    if (last && !h.ours && (last.text.charCodeAt(0) === 0xfeff) !== (h.text.charCodeAt(0) === 0xfeff)) {
      for (const x of this.#list) x.used = true
      this.#older.useAll()
    }
    this.#list.push(h)
    this.trim()
  }

  /** Replaces everything with `h` (a restart, a deletion): nothing older is known. */
  reset(h: Held | null): void {
    this.#list = h ? [h] : []
    this.#older.clear()
  }

  /** Drops the texts after `h` (a rendering that could not be written: the file never held it). */
  backTo(h: Held): void {
    const i = this.#list.lastIndexOf(h)
    if (i >= 0) this.#list.length = i + 1
    else this.push(h)
  }

  /**
   * The text a save of `text` was made from, by the rules of the header. `stale`: an older text than the
   * newest, followed by one of our writes — what peers changed since must be kept. A whole-file rewrite
   * whose lines say nothing is told by its data (`staledata.ts`).
   */
  baseFor(text: string): Chosen | null {
    // The rest of a cut's rewrite goes by the cut alone: read as a stale save of an older text (`olderBase`), only
    // its own change was applied over the emptied file (edits-live seed 7: 3,738 of 34,800 characters kept).
    const cut = this.newest && this.newest.text !== text ? this.rewrittenCut(text) : null
    if (cut) return cut
    const r = this.byLines(text)
    const h = r && !r.stale && r.base === this.newest ? staleByData(this.#list, text) : null
    const c = this.ownAfter(text, h ? { base: h, stale: true } : (r && this.olderBase(text, r)) ?? r)
    const i = c && !c.stale && c.base === this.newest && !c.equals ? beforeOwnSave(this.#list, text, knownIn(this.#list)) : -1
    const back = i < 0 && c && !c.stale && c.base === this.newest && !c.equals ? takesBackOwn(this.#list, text) : []
    return i >= 0 ? { base: this.#list[i]!, stale: true, beforeOwn: true } : back.length ? { ...c!, ownBack: back } : c
  }

  /**
   * A stale base followed, before our next write, by the person's own saves: the save is read as made from the
   * last of them (an editor's undo back past them, the header's rule for one's own saves) — read from the older
   * text, this machine's own later save was kept over it as if a peer's (black-box tester stop 30, finding 1).
   * Unless the save's change is elsewhere than theirs: another editor's older buffer (`recentown.ts`).
   */
  private ownAfter(text: string, r: { base: Held; stale: boolean } | null): Chosen | null {
    const list = this.#list
    let i = r?.stale ? list.indexOf(r.base) : -1
    if (i < 0) return r
    while (i + 1 < list.length - 1 && !list[i + 1]!.ours && !list[i + 1]!.used && !list[i + 1]!.cut) i++
    if (list[i] === r!.base) return r
    return touches(r!.base.text, list[i]!.text, text) ? { base: list[i]!, stale: true, own: r!.base } : { ...r!, beforeOwn: true }
  }

  /**
   * A text before the ring the save was made from (`recentolder.ts`): only when the ring's choice is two lines
   * or more away (an edit of it is usually one), nearer than it, with our write after it, holding nothing
   * typed since and something of its own where the peers changed the file (as for the ring's older texts).
   * A save that is exactly such a text is a revert (the header's rule): made from the newest (tester stop 32, 5).
   */
  private olderBase(text: string, r: Chosen): Chosen | null {
    const list = this.#list
    const newest = this.newest!
    if (!this.#older.size || !this.held || r.base.text === text || r.equals) return null // exactly a ring text: its undo (the header)
    let bestD = changedLines(r.base.text, text) ?? Infinity
    if (bestD < 1) return null
    // One line from the ring's choice: only a tie below can move the base (an older text the save equals is no
    // revert then: it is that edit of the ring's text, as before ties were looked for here).
    const near = bestD < 2
    const oursInRing = list.some((h) => h.ours)
    const mine = new Set(text.split('\n'))
    // Lines of `t` the save has nowhere: removed by it, a bound below the changed lines (most texts need no diff).
    const gone = (t: string, max: number) => t.split('\n').reduce((k, l) => (k < max && !mine.has(l) ? k + 1 : k), 0)
    let best = null
    const own = ownLinesIn(list, 0, list.indexOf(r.base)), known = knownIn(list) // own: the person's saves' lines, no peer's
    for (const [o, savedAfter] of withOwnLines(list[0]!, this.#older.texts({ text: list[0]!.text, ids: collectIds(list[0]!.ir) }), own)) {
      if (o.text === text) {
        if (near && !(r.stale && replacesPeerLine(o.text, r.base.text, text, own))) continue // else a peer's line went back unsaid
        return { base: newest, stale: false, equals: { writes: list.filter((h) => h.ours).length + 1, older: true } }
      }
      // Not one held again since (`git checkout -- FILE`: the ring judged its copy; git schedule seed 3037) or one the
      // person's own save followed (the header's rule): the person's next save read as replacing a peer's line.
      if (o.used || savedAfter || !(oursInRing || o.oursAfter) || gone(o.text, bestD + 1) > bestD || list.some((h) => h.text === o.text)) continue
      const d = changedLines(o.text, text, Number.isFinite(bestD) ? bestD : undefined)
      if (d === undefined || d > bestD) continue
      // As near as the text after it: the older one when the save replaced a line the peers wrote since it —
      // the ring's tie rule (`replacesPeerLine`). Read from the newer, a value a peer changed more than
      // MAX_RECENT writes ago was overwritten with no record (black-box tester stop 31, finding 6: 8 writes or more).
      if (d === bestD && !replacesPeerLine(o.text, best?.text ?? r.base.text, text, own)) continue
      // Nor one lacking a line the save holds from later (the header's rule): nearest by chance when the save set values
      // back as an older text had them, it hid the save's base and every peer change since went back (stale-deep 975442).
      if (holdsNewer(o.text, newest.text, text, known)) continue
      ;[best, bestD] = [o, d]
    }
    const held = best && keepsPeerPlace(best.text, newest.text, text, known) ? this.held(best.text, best.ids, best.ours) : null
    if (!best || !held) return null
    best.use()
    return { base: { ...held, ...(best.sv ? { sv: best.sv } : {}) }, stale: true }
  }

  /**
   * The older text a YAML library's whole-file `dump` was made from, by its data (`staledata.ts`); null when
   * none fits (made from the newest). Keep-format applies the dump's data changes to this text: applied to
   * the newest, the dump's lack of a peer's new item read as deleting it, and the peer's comment line above it
   * (no library writes comments) stayed, so the result held a line typed since and was taken as an edit of
   * the newest: the item gone on every peer, its comment left (black-box tester, issue 13).
   */
  dumpBase(dump: string): Held | null {
    return staleByData(this.#list, dump)
  }

  private byLines(text: string): Chosen | null {
    const list = this.#list
    const newest = this.newest
    if (!newest) return null
    let lastOurs = -1
    for (let i = list.length - 1; i >= 0 && lastOurs < 0; i--) if (list[i]!.ours) lastOurs = i
    if (newest.text === text) return { base: newest, stale: false }
    if (lastOurs <= 0) return { base: newest, stale: false }
    const known = knownIn(list)
    // A used-up text saved again exactly is the deliberate re-save; otherwise used-up texts are no candidates
    // (a near tie with one must not hide the text the save was really made from).
    const was = list.findLastIndex((h) => h !== newest && h.text === text)
    const equals = { writes: list.slice(was + 1).filter((h) => h.ours).length }
    if (list.some((h) => h.used && h.text === text)) return { base: newest, stale: false, equals }
    // A save that is exactly an older text carries no edit of its own: a stale buffer written back unchanged
    // is rare, while a person reverting a peer's change or deleting the item a peer just added (sed, an
    // editor's undo) is common and must go through at once (found by a tester: reverts and deletions made
    // seconds after a peer's change were undone). Taken as made from the newest text.
    if (was >= 0) return { base: newest, stale: false, equals }
    // Nor is a text the save holds a line typed after (the header's rule): one such, nearest by chance (an
    // item moved back where an older text had it), hid the text the save was made from (stale-save 'move').
    const open = list.filter((h) => !h.used && (h === newest || !holdsNewer(h.text, newest.text, text, known)))
    let h = open[nearest(open.map((x) => x.text), text)]
    if (h && list.indexOf(h) >= lastOurs) {
      const tied = this.tiedOlder(h, lastOurs, text, known)
      if (tied) return { base: tied, stale: true }
      // As near the text before our last write, which only added lines the save lacks: both appended there (`lacksAdded`).
      const was = list[lastOurs - 1]
      if (was && open.includes(was) && changedLines(was.text, text) === changedLines(h.text, text) && lacksAdded(was.text, list[lastOurs]!.text, text)) return { base: was, stale: true }
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
    // A save that rewrote the lines around the place (`keepsPeerPlace`) lacking all the peers only added: from the older.
    if (!h || holdsNewer(h.text, newest.text, text, known) || (!keepsPeerPlace(h.text, newest.text, text, known) && !lacksAdded(h.text, newest.text, text))) {
      const tied = this.tiedOlder(newest, lastOurs, text, known)
      return tied ? { base: tied, stale: true } : { base: newest, stale: false }
    }
    const d = changedLines(h.text, text), at = list.indexOf(h), o = open.find((x) => list.indexOf(x) < at && changedLines(x.text, text, d) === d && replacesPeerLineIn(list, list.indexOf(x), at, text))
    return { base: o ?? h, stale: true } // a tie with an older text whose reading records the overwrite (saveevidence.ts)
  }

  /**
   * The nearest older text (before our last write, `lastOurs`) as near `text` as `than` is, the text the
   * lines chose, that the save shows as before at a place the peers changed (`holdsOlder`) and holds nothing
   * typed since: the save was made from it. A stale save that moved the item a peer edited differs from both
   * texts in every line of the item, so the tie went to the newer text, or an older text near by chance
   * (the item moved back where it once was) was chosen and refused; only the peer's lines tell.
   */
  private tiedOlder(than: Held, lastOurs: number, text: string, known: Known): Held | null {
    const list = this.#list
    const newest = this.newest!
    const first = changedLines(than.text, text)
    if (first === undefined) return null
    let [best, bestD]: [Held | null, number] = [null, first]
    for (let i = lastOurs - 1; i >= 0; i--) {
      const o = list[i]!
      const d: number | undefined = o.used || o === than ? undefined : changedLines(o.text, text, bestD)
      if (d === undefined || (best && d >= bestD)) continue
      if (holdsOlder(o.text, newest.text, text) && !holdsNewer(o.text, newest.text, text, known)) [best, bestD] = [o, d]
    }
    return best
  }

  /** The cut text a save of `text` completes (the header's rule); it serves once. */
  private rewrittenCut(text: string): { base: Held; stale: boolean } | null {
    const list = this.#list
    let at = list.length - 1
    while (at >= 0 && !list[at]!.cut) at--
    if (at < 0) return null
    // An edit of a text after the cut (a peer's save written in) only when nearer one of those than the cut and
    // all before it: a tie is the rest (a small file rewritten, `{…}` over a block; every line end changed).
    const d = (from: number, to: number) => Math.min(...list.slice(from, to).filter((h) => !h.used).map((h) => changedLines(h.text, text) ?? Infinity))
    if (at < list.length - 1 && d(at + 1, list.length) < d(0, at + 1)) return null
    const cut = list[at]!
    cut.cut = false
    return { base: cut, stale: at < list.length - 1 }
  }

  private trim(): void {
    // Not measured by a cut (a moment of a rewrite): the ring kept the cut alone, the rest not known as such.
    const size = this.#list.some((h) => h.cut) ? Math.max(...this.#list.map((h) => h.text.length)) : this.newest!.text.length
    const budget = BUDGET_FACTOR * size + BUDGET_SLACK
    let bytes = this.#list.reduce((n, h) => n + h.text.length, 0)
    while (this.#list.length > MAX_RECENT || (this.#list.length > 1 && bytes > budget)) {
      const h = this.#list.shift()!
      bytes -= h.text.length
      this.#older.add(h, collectIds(h.ir), { text: this.#list[0]!.text, ids: collectIds(this.#list[0]!.ir) }, size)
    }
  }
}

/** Is a line (trimmed) in a text before the newest? Built at the first question. */
function knownIn(list: readonly Held[]): Known {
  let before: Set<string> | null = null
  return (l) => (before ??= new Set(list.slice(0, -1).flatMap((x) => x.text.split('\n').map((y) => y.trim())))).has(l)
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

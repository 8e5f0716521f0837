/**
 * Turns a local edit into register writes: a three-way comparison of the IR the user last saw (`base`,
 * annotated with node ids) with the IR of the new text, applied to the current CRDT state.
 *
 * Only what differs between base and new text is written, so changes that reached the CRDT from peers in
 * the meantime stay untouched: this is what makes a held file's edits and the peers' edits merge once it
 * parses again. Children are matched (`match.ts`) by key, identity, content and finally position, so an
 * edit of one todo is a field write, never delete + insert.
 */
import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing'
import type { Child, DocIR, Line, Node } from './ir.js'
import { childrenOf, slotsOf } from './ir.js'
import { increasingRun, matchByKey, matchItems, matchLines, matchSet, setKeys } from './match.js'
import { ITEM, type Rules } from './rules.js'
import { COUNT, ROOT, childId, enrollSegment, kindOf, type NodeId } from './schema.js'
import { integerOf } from './tree.js'
import { isEmptyDesc } from './emptied.js'
import { mergedTrivia } from './trivia.js'
import { childKindOf, descOf, syntaxOf, type ChildKind, type Writer } from './write.js'

type ChildClass = 'keyed' | 'list' | 'lines' | null

function childClass(n: Node | null): ChildClass {
  if (!n) return null
  if (n.t === 'map' || n.t === 'fmap') return 'keyed'
  if (n.t === 'seq' || n.t === 'fseq') return 'list'
  if (n.t === 'block') return 'lines'
  return null
}

export class Differ {
  #shown: Set<NodeId> | null = null

  constructor(readonly w: Writer) {}

  /** Whether the model's rendering shows node `id` (computed once per diff, and only when asked). */
  private shown(id: NodeId): boolean {
    this.#shown ??= new Set(slotsOf(this.tree.toIR()).flatMap((c) => (c.id ? [c.id] : [])))
    return this.#shown.has(id)
  }

  get tree() {
    return this.w.tree
  }

  /** `base` null: no common ancestor (enrollment, re-creation): the current CRDT state stands in for it. */
  applyDoc(base: DocIR | null, next: DocIR): void {
    const cur = base ?? this.tree.toIR()
    if (cur.head !== next.head) this.w.setStr(ROOT, 'h', mergedTrivia(cur.head, next.head, this.tree.get<string>(ROOT, 'h') ?? ''), '')
    if (cur.trail !== next.trail) this.w.setStr(ROOT, 't', mergedTrivia(cur.trail, next.trail, this.tree.get<string>(ROOT, 't') ?? ''), '')
    this.w.revive(ROOT)
    if (base) this.diffValue(ROOT, base.root, next.root, [])
    else this.upsertValue(ROOT, next.root, [])
  }

  /** Writes `next` as the value of an existing or new node, comparing with what the CRDT holds now. */
  private upsertValue(id: NodeId, next: Node | null, path: readonly string[]): void {
    const current = this.tree.has(id) && this.tree.desc(id) !== undefined ? this.tree.node(id) : null
    if (!current) {
      // Written even for an empty value: an enrolled file of only comments exists too.
      this.w.setDesc(id, descOf(next))
      if (next) this.createChildren(id, next, path)
      return
    }
    this.diffValue(id, current, next, path)
  }

  diffValue(id: NodeId, base: Node | null, next: Node | null, path: readonly string[]): void {
    if (this.w.opts.rules.at(path).merge === 'counter' && this.count(id, base, next)) return
    const nd = descOf(next)
    // The user changed this value in a file that still shows the node, which the model no longer shows (a
    // peer deleted it, or what holds it, meanwhile): the edit must revive it, as any edit concurrent with a
    // deletion does, even when the model already holds this very value (a peer wrote it before the deletion).
    const had = this.tree.desc(id)
    if (descOf(base) !== nd) this.w.setDesc(id, nd, had === nd && !this.shown(id))
    if (base && !childClass(base) && !isEmptyDesc(descOf(base)) && isEmptyDesc(nd)) this.buryRevived(id)
    // A stale save emptied (`k: ~`) a value a peer made a block of text since: the block's lines are the
    // peer's value (recorded as overwritten), not an emptied list's items, which an empty value shows: the
    // file showed `k:\n  - line one` (stale-save seed 3, 'record: a value said by its kind only').
    // Emptied by the save, not left empty: `notes: ~` kept as the buffer showed it, beside a line typed after
    // it, hid the block a peer made of it (`notes: |-` with no lines: a value from nowhere, seed 3 at 17,982).
    if (this.w.opts.seen && isEmptyDesc(nd) && descOf(base) !== nd && kindOf(had) === 'block' && base?.t !== 'block') this.tombstoneHidden(id, 'list')
    const bc = childClass(base)
    const nc = childClass(next)
    // A save made from an older text (`seen`: a stale save) typed a line into a block scalar that a peer made
    // a value of another kind since (`{}`, a plain scalar): the save's whole value is the later edit. Diffed
    // as lines under the peer's value, the typed line showed as `[line three]` (neither value) or not at
    // all, with no record (stale-save seed 2). Block scalars of stale saves only: a mapping emptied to null
    // by one peer and edited by another shows its entries under the null (emptied.test.ts), and live saves
    // race through the CRDT's own conflict records (converge-emptied seed 10 lost its record otherwise).
    // A new header alone is such a save too (`>-` → `|` over a peer's plain string): diffed as lines, the
    // lines the peer's value deleted stayed deleted, and the file showed an empty block (seed 298400).
    const retyped = !!(this.w.opts.seen && base && next && nc === 'lines' && bc === nc && had !== undefined && kindOf(had) !== kindOf(nd) && (descOf(base) !== nd || !sameContent(base, next)))
    if (retyped) this.w.setDesc(id, nd, true)
    if (bc !== nc || retyped) {
      if (base && bc) this.tombstoneChildren(base)
      // Children of the new kind may exist already (a peer made the same change): compare with those. The
      // tree shows the new kind only once this transaction ends; until then it shows the old one, whose
      // children (just tombstoned) must not be matched: a value turned block scalar, or mapping turned
      // list, would lose what was typed (issue 13: typed lines lost).
      if (next && nc) {
        const cur = this.tree.node(id)
        const same = cur && childClass(cur) === nc
        if (!same) this.tombstoneHidden(id, nc)
        const held = same ? cur : next.t === 'block' ? { ...next, lines: [] } : emptyLike(next)
        // A stale save's base showed none of those children (its value was of another kind, or nothing: the
        // emptied text a cut's rest is diffed against): one it does not hold is a peer's, not deleted. Deleted,
        // it stayed (beyond `seen`) with a record 'a deleted note_118' nobody made (stale-save 'truncate' mode).
        this.diffChildren(id, held, next, path, same && !!this.w.opts.seen)
      }
      return
    }
    if (base && next && nc) this.diffChildren(id, base, next, path)
  }

  /**
   * A counter changed from one integer to another: record the difference as this peer's increment, so that
   * concurrent increments add up. Anything else (a non-integer) is a plain write that restarts the count.
   */
  private count(id: NodeId, base: Node | null, next: Node | null): boolean {
    const b = base?.t === 'scalar' ? integerOf(base.raw) : null
    const n = next?.t === 'scalar' ? integerOf(next.raw) : null
    const mine = id + COUNT + this.tree.doc.clientID
    if (b !== null && n !== null && this.tree.desc(id)?.[0] === '=') {
      if (n !== b) this.w.map.set(mine, ((this.w.map.get(mine) as number | undefined) ?? 0) + (n - b))
      return true
    }
    for (const client of this.tree.contributions(id)?.keys() ?? []) {
      if (this.w.map.get(id + COUNT + client) !== 0) this.w.map.set(id + COUNT + client, 0)
    }
    return false
  }

  private rewriteScalars(id: NodeId, n: Node, path: readonly string[]): void {
    // A counter's text includes every peer's increments: rewriting it would count them twice.
    if (this.w.opts.rules.at(path).merge === 'counter') return
    if (n.t === 'scalar' || n.t === 'opaque') {
      // The value the model shows already: the re-add did not write it over anything (`copyValue`).
      if (this.tree.desc(id) === descOf(n) && this.shown(id)) return this.w.copyDesc(id)
      return this.w.setDesc(id, descOf(n), true)
    }
    for (const c of childrenOf(n) ?? []) {
      if (c.id) this.rewriteScalars(c.id, c.value, [...path, 'key' in c ? c.key : ITEM])
    }
  }

  private tombstoneChildren(n: Node): void {
    if (n.t === 'block') for (const l of n.lines) l.id && this.w.tombstone(l.id)
    for (const c of childrenOf(n) ?? []) if (c.id) this.w.tombstone(c.id)
  }

  /**
   * Children of kind `nc` that the node still holds, alive but not shown while its value is of another kind:
   * a peer's mapping that a stale save's scalar overwrote keeps its entries under the node. Turned into a
   * mapping again, the node would show them beside the typed ones, which the file never showed (edit
   * generator seed 348446: a field deleted long ago came back). The save's text is all the new value holds.
   */
  private tombstoneHidden(id: NodeId, nc: ChildClass): void {
    for (const c of this.tree.rawChildren(id)) {
      const p = this.tree.placement(c)
      // Deleted already and revived (the stale save's deletion had not seen them) is the usual way there: a
      // second tombstone, which a save never writes for an item its file shows, is right for one it never showed.
      // Whole, even in a stale save: lines a peer added to a block scalar the save turned into a list were kept
      // as list items (`- \u0001`, edit generator seeds 1 and 90210), items and lines being placed alike.
      if (p && p[0] === id && p.length > 2 === (nc === 'keyed') && this.tree.alive(c)) this.w.tombstone(c, true, true)
    }
  }

  /**
   * The save empties a typed value (`todos: 0` → `todos:`) under which items a peer's deletion missed are
   * alive (an edit made inside the list while another peer typed the scalar over it: revived, with their
   * delete conflict). The file showed the scalar, not them; an empty value shows such children
   * (`emptied.ts`), so the old list's items came back, typed by nobody (stale-save seed 348825). Deleted
   * again, having seen what the save's base had seen: an edit inside it since keeps it, with its conflict.
   */
  private buryRevived(id: NodeId): void {
    for (const c of this.tree.rawChildren(id)) {
      const p = this.tree.placement(c)
      if (p && p[0] === id && this.tree.tombstone(c) && this.tree.alive(c)) this.w.tombstone(c, true)
    }
  }

  private createChildren(id: NodeId, next: Node, path: readonly string[]): void {
    const empty: Node = next.t === 'block' ? { ...next, lines: [] } : emptyLike(next)
    this.diffChildren(id, empty, next, path)
  }

  private diffChildren(parent: NodeId, base: Node, next: Node, path: readonly string[], unseen = false): void {
    // A base child without id is text the CRDT does not hold as such (a repaired rendering): not a node.
    if (base.t === 'block' && next.t === 'block') {
      // A base line without id is held elsewhere (a `|+` block's trailing blank line is the next entry's head):
      // the save's same line is that text, not a new one. Created, the blank line doubled inside the block and
      // changed its value (stale-save seed 348825 at 18,463).
      const pairs = matchLines(base.lines, next.lines)
      const elsewhere = (l: Line, j: number) => pairs[j] !== undefined && !base.lines[pairs[j]!]!.id && base.lines[pairs[j]!]!.text === l.text
      return this.diffLines(parent, base.lines.filter((l) => l.id), next.lines.filter((l, j) => !elsewhere(l, j)))
    }
    const bk = (childrenOf(base) ?? []).filter((c) => c.id)
    const nk = childrenOf(next) ?? []
    const kind = childKindOf(next)
    const keyed = kind === 'entry' || kind === 'flowEntry'
    const rules = this.w.opts.rules
    const isSet = !keyed && rules.at(path).merge === 'set'
    const shown = new Set(bk.map((c) => c.id!))
    const elsewhere = (v: string) => this.tree.visibleChildren(parent).some((c) => !shown.has(c) && this.tree.identityOf(c, rules.at(path).identity) === v)
    const pairs = keyed ? matchByKey(bk, nk) : isSet ? matchSet(bk, nk) : matchItems(bk, nk, rules, path, (i) => this.tree.alive(bk[i]!.id!), elsewhere)
    const matched = new Set<number>()
    const ids: NodeId[] = []
    for (let j = 0; j < nk.length; j++) {
      const i = pairs[j]
      if (i !== undefined) {
        matched.add(i)
        ids.push(bk[i]!.id!)
      } else ids.push('')
    }
    if (!unseen) for (let i = 0; i < bk.length; i++) if (!matched.has(i) && bk[i]!.id) this.w.tombstone(bk[i]!.id!)
    // Items the writer's file shows (kept ones, and new ones as they get ids): a new item never merges into one.
    const taken = new Set(ids.filter((x) => x))
    const orders = this.orderKeys(ids, pairs)
    for (let j = 0; j < nk.length; j++) {
      const i = pairs[j]
      // A child that already has another id is one the tree built (an incremental parse shares untouched
      // entries with the base): an id is about to be written into it, which the tree's cache must not see.
      if (nk[j]!.id && (i === undefined || bk[i]!.id !== nk[j]!.id)) nk[j] = detached(nk[j]!)
      const n = nk[j]!
      const key = keyed ? (n as { key: string }).key : undefined
      const childPath = [...path, key ?? ITEM]
      if (i !== undefined) {
        const b = bk[i]!
        n.id = b.id
        if (orders[j]) this.w.place(b.id!, key === undefined ? [parent, orders[j]!] : [parent, orders[j]!, key])
        // The very same object: an untouched entry shared by an incremental parse.
        if (b === n) continue
        const bs = syntaxOf(b, kind)
        // The save writes a value of another kind than the model holds (a stale save's scalar over the mapping a
        // peer made of it): the separator and trail go with the value, so they are the save's, or the peer's
        // `k:\n` and empty trail stayed around the scalar and it rendered `k:\n  0` (issue 13 class C).
        // So too when a stale save changed the lines of a block scalar a peer made `{}` since (diffValue's
        // `retyped`: its trail doubled the block's last newline).
        const retyped = (kind === 'entry' || kind === 'item') && kindOf(this.tree.desc(b.id!)) !== kindOf(descOf(n.value)) && (descOf(b.value) !== descOf(n.value) || (!!this.w.opts.seen && n.value.t === 'block' && !sameContent(b.value, n.value)))
        const cur = retyped ? syntaxCurrent(this.tree, b.id!, kind, n) : null
        for (const [k, [attr, value, dflt]] of syntaxOf(n, kind).entries()) {
          if (cur && (attr === 's' || attr === 't') && cur[k]![1] !== value) this.w.setStr(b.id!, attr, value, dflt)
          // A peer's comment or blank line in the same stretch stays (trivia.ts).
          else if (bs[k]![1] !== value) this.w.setStr(b.id!, attr, attr === 'h' || attr === 't' ? mergedTrivia(bs[k]![1], value, this.tree.get<string>(b.id!, attr) ?? dflt) : value, dflt)
        }
        this.diffValue(b.id!, b.value, n.value, childPath)
      } else {
        const id = this.w.newChildId(parent, n, kind, j, path, isSet ? setKeys(nk)[j] : undefined, taken)
        taken.add(id)
        n.id = id
        // Its placement may be missing while its registers are not (an update that moved it is pending).
        const existed = this.tree.has(id) || this.tree.value(id) !== undefined
        this.w.place(id, key === undefined ? [parent, orders[j]!] : [parent, orders[j]!, key])
        this.w.revive(id)
        const cur = existed ? syntaxCurrent(this.tree, id, kind, n) : null
        for (const [k, [attr, value, dflt]] of syntaxOf(n, kind).entries()) {
          if (!cur || cur[k]![1] !== value) this.w.setStr(id, attr, value, dflt)
        }
        this.upsertValue(id, n.value, childPath)
        // Adding an element to a set is always a fresh write, so it wins over a concurrent removal.
        if (isSet && existed) this.w.setDesc(id, descOf(n.value), true)
        // A new child landing on an existing node (re-created after a deletion, or the same id or key a
        // peer added, which this file did not show yet) writes all its values afresh, even those equal to
        // what the node holds: this writer never saw them, so a peer that changed one concurrently raced
        // it, and that race must be recorded.
        else if (existed) this.rewriteScalars(id, n.value, childPath)
      }
    }
  }

  private diffLines(parent: NodeId, base: Line[], next: Line[]): void {
    const pairs = matchLines(base, next)
    const used = new Set(pairs.filter((x): x is number => x !== undefined))
    for (let i = 0; i < base.length; i++) if (!used.has(i) && base[i]!.id) this.w.tombstone(base[i]!.id!)
    const ids = next.map((_, j) => (pairs[j] !== undefined ? base[pairs[j]!]!.id! : ''))
    const orders = this.orderKeys(ids, pairs)
    next.forEach((l, j) => {
      const i = pairs[j]
      if (i !== undefined) {
        l.id = base[i]!.id
        if (orders[j]) this.w.place(l.id!, [parent, orders[j]!])
        if (base[i]!.text !== l.text) this.w.setDesc(l.id!, '=' + l.text)
      } else {
        const seg = this.w.opts.unique ? 'u:' + this.w.opts.unique() : enrollSegment(j)
        l.id = childId(parent, seg)
        this.w.place(l.id, [parent, orders[j]!])
        this.w.revive(l.id)
        this.w.setDesc(l.id, '=' + l.text)
      }
    })
  }

  /**
   * Order keys for the children in their new order: matched children whose current keys already ascend
   * (a longest increasing run) keep them; moved and new children get keys between their neighbours.
   * Returns '' where a child keeps its key.
   */
  private orderKeys(ids: NodeId[], basePos: Array<number | undefined>): string[] {
    const cur = ids.map((id) => (id ? this.tree.placement(id)?.[1] : undefined))
    // What the user did not move keeps its key — a longest run of children in their base order — even
    // where peers' moves made the current keys disagree: rewriting those would be a move the user never made.
    const keep = increasingRun(basePos.map((p, j) => (cur[j] === undefined ? undefined : p)))
    const out: string[] = new Array(ids.length).fill('')
    if (ids.length > 0 && ids.every((id) => id === '')) {
      // All new (enrollment, a new list): the same keys every peer would pick.
      const keys = generateNKeysBetween(null, null, ids.length)
      return ids.map((_, j) => keys[j]!)
    }
    let lo: string | null = null
    for (let j = 0; j < ids.length; j++) {
      if (keep.has(j)) {
        lo = cur[j]!
        continue
      }
      // A matched child whose placement is momentarily unknown (an update it depends on is still in
      // flight) is left alone: placing it now would be a move nobody made.
      if (ids[j] && cur[j] === undefined) continue
      let hi: string | null = null
      for (let k = j + 1; k < ids.length; k++) if (keep.has(k)) {
        hi = cur[k]!
        break
      }
      if (lo !== null && hi !== null && lo >= hi) hi = null
      out[j] = generateKeyBetween(lo, hi)
      lo = out[j]!
    }
    return out
  }
}

/** A deep copy of a child, without the parser's spans (they would place it in a text it is not part of). */
function detached(c: Child): Child {
  return JSON.parse(JSON.stringify(c, (k, v: unknown) => (k === 'span' ? undefined : v))) as Child
}

function emptyLike(n: Node): Node {
  switch (n.t) {
    case 'map':
      return { t: 'map', entries: [], indent: n.indent }
    case 'seq':
      return { t: 'seq', items: [], indent: n.indent }
    case 'fseq':
      return { t: 'fseq', items: [], close: n.close }
    case 'fmap':
      return { t: 'fmap', entries: [], close: n.close }
    default:
      return n
  }
}

function syntaxCurrent(tree: Writer['tree'], id: NodeId, kind: ChildKind, like: Child) {
  const probe = { ...like } as Record<string, unknown>
  for (const [attr, , dflt] of syntaxOf(like, kind)) {
    const v = tree.get<string>(id, attr) ?? dflt
    const field = { k: 'keyRaw', h: kind === 'flowItem' || kind === 'flowEntry' ? 'pre' : 'head', s: 'sep', t: kind === 'flowItem' || kind === 'flowEntry' ? 'post' : 'trail' }[attr]!
    probe[field] = v
  }
  return syntaxOf(probe as unknown as Child, kind)
}

/** The same value in both texts, whatever their ids: scalars, lines, keys and items alike. */
function sameContent(a: Node, b: Node): boolean {
  if (descOf(a) !== descOf(b)) return false
  if (a.t === 'block' && b.t === 'block') return a.lines.length === b.lines.length && a.lines.every((l, i) => l.text === b.lines[i]!.text)
  const ac = childrenOf(a) ?? []
  const bc = childrenOf(b) ?? []
  return ac.length === bc.length && ac.every((c, i) => ('key' in c ? c.key : null) === ('key' in bc[i]! ? (bc[i] as { key: string }).key : null) && sameContent(c.value, bc[i]!.value))
}

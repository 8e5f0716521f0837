/**
 * Applies a document's new *data* to its existing IR, keeping every byte that data does not touch (issue 13
 * item 7, used by `keepformat.ts`). An agent that loads a file with a YAML library, changes one value and
 * dumps it gives us the data it meant and formatting it never meant: here only the data counts, and the
 * team's text is changed where the data differs — a changed scalar gets a new token (in the quoting style it
 * had), a removed key or item goes, a new one is appended in a conventional style (the indentation the file
 * uses), moved list items move with their comments. Entries that did not change are the same IR objects, so
 * they render byte for byte.
 *
 * Key order is the file's: a dump that sorted keys changes nothing (mappings are unordered data). List items
 * are matched by identity key (`id`, … per the rules), then equal content, then position between matched
 * neighbours, so an edited item keeps its comments and a removed one does not shift its neighbours' values.
 *
 * Pure: no I/O. New nodes are made by printing the value with the `yaml` package and parsing that with our
 * own parser, so they are IR like any other and the caller re-checks the whole result (`keepformat.ts`).
 */
import { Document, isCollection, isNode, stringify } from 'yaml'
import { NO_FINAL_NEWLINE, type BlockScalarNode, type DocIR, type MapEntry, type MapNode, type Node, type SeqItem, type SeqNode } from './ir.js'
import { sepAnchor, valueOf } from './canonical.js'
import { parseYaml } from './parse.js'
import { renderNodeText } from './render.js'
import { ITEM, type Rules } from './rules.js'
import { anchorOf, flowScalar, isObj, matchData, quickScalar, resolveData, sameData, scalarRaw, short, Unwritable, type Anchor, type Obj } from './datamatch.js'

export { sameData, Unwritable }


export type ChangeKind = 'changed' | 'added' | 'removed' | 'moved'
export interface DataChange {
  kind: ChangeKind
  path: string
}

interface Style {
  indent: number
  indentSeq: boolean
}


export class DataMerge {
  readonly changes: DataChange[] = []
  /**
   * Where the base text held what the data changes replaced or removed (offsets of the parsed base): an
   * entry's own lines and its value's, not the comment lines above it (the merge keeps those). A save that
   * lost only comments that stood there lost them with the values it changed: a person's edit as much as
   * a dump (`keepformat.ts`).
   */
  readonly replaced: Array<[number, number]> = []
  /** Within `replaced`, the comment lines the merge keeps all the same (above an emptied collection's entries). */
  readonly keptWithin: Array<[number, number]> = []
  private memo = new WeakMap<Node, unknown>()
  private style: Style
  /** The text's data was read with aliases and merge keys resolved (`resolve`): `<<` entries are merges. */
  private merging = false

  constructor(private readonly rules: Rules, ir: DocIR) {
    this.style = styleOf(ir.root)
  }

  /** The IR holding `want`, or null when the root's kind changed (then nothing of the old text fits). */
  apply(ir: DocIR, want: unknown): DocIR | null {
    if (!ir.root) return null
    const root = this.node(ir.root, want, [])
    // Comments of removed entries that no later entry took: above the file's trailing text.
    if (root) return { ...ir, root, trail: this.pending && ir.trail !== NO_FINAL_NEWLINE ? this.pending + ir.trail : ir.trail }
    // Emptied at the top (every key or item removed): the empty collection, below the file's head comments.
    const empty = isObj(want) && Object.keys(want).length === 0 ? '{}' : Array.isArray(want) && want.length === 0 ? '[]' : null
    if (empty === null || (ir.root.t !== 'map' && ir.root.t !== 'seq')) return null
    this.changes.push({ kind: 'removed', path: '' })
    return { ...ir, root: parseYaml(`${empty}\n`).root, trail: '\n' }
  }

  /** Reads `ir`'s data as a library loads it, aliases and merge keys resolved (`resolveData`); false when it does not load. */
  resolve(ir: DocIR, text: string): boolean {
    const ok = resolveData(ir, text, this.memo)
    if (ok) this.merging = true
    return ok
  }

  /** The data a node stands for (remembered: unchanged nodes are shared by the base and the result). */
  dataOf(n: Node): unknown {
    return this.data(n)
  }

  private data(n: Node): unknown {
    if (this.memo.has(n)) return this.memo.get(n)
    let v: unknown
    if (n.t === 'map') {
      const o: Obj = {}
      for (const e of n.entries) o[e.key] = this.data(e.value)
      v = o
    } else if (n.t === 'seq') v = n.items.map((i) => this.data(i.value))
    else v = n.t === 'scalar' ? quickScalar(n.raw) : valueOf(n)
    this.memo.set(n, v)
    return v
  }

  /** `n` holding `want`: `n` itself when it already does, null when the node's kind has to change. */
  private node(n: Node, want: unknown, path: string[]): Node | null {
    // What uses an anchor written anew stands for its new value: compared below, not by its old data.
    if (sameData(this.data(n), want) && !this.usesRewritten(n)) return n
    // An emptied block collection is written as `{}` / `[]`, a new entry's way.
    if (n.t === 'map' && isObj(want)) return Object.keys(want).length ? this.map(n, want, path) : this.emptied(n.entries)
    if (n.t === 'seq' && Array.isArray(want)) return want.length ? this.seq(n, want, path) : this.emptied(n.items)
    const where = shown(path)
    if ((n.t === 'fseq' && Array.isArray(want)) || (n.t === 'fmap' && isObj(want))) {
      this.changes.push({ kind: 'changed', path: where })
      return this.flow(n, want)
    }
    // An alias alone: this use of the anchor is written as its new value (the anchor and its other uses stay).
    // An anchored node: its new value is written there, anchor kept (`anchorOf`); a later use that holds the
    // old value says it as its own (`usesRewritten`, `mergedNow`). Inside an anchored node, or a flow map that
    // merges one, the text cannot say a change at one place: refused.
    // An alias of an anchor written anew with this very value (a list or mapping the library shared) stays.
    const alias = n.t === 'opaque' && this.merging ? /^\*([^\s]+)$/.exec(n.raw.trim()) : null
    if (alias && this.anchorWant.has(alias[1]!) && sameData(this.anchorWant.get(alias[1]!), want)) return n
    if (n.t === 'opaque' && this.merging && /[&*]|<</.test(n.raw) && !alias && anchorOf(n) === null) {
      throw new Unwritable(`${where || 'the top'} is inside an anchored value or a merge (${short(n.raw)}): written there it would change every use of the anchor`)
    }
    if (isObj(want) || Array.isArray(want) || n.t === 'opaque' || n.t === 'map' || n.t === 'seq' || n.t === 'fseq' || n.t === 'fmap') return null
    this.changes.push({ kind: 'changed', path: where })
    if (n.t === 'block') return typeof want === 'string' ? this.block(n, want) : null
    const raw = scalarRaw(want, n.t === 'scalar' ? n.raw : '')
    return raw === null ? null : { t: 'scalar', raw }
  }

  /**
   * Comment lines of removed entries, waiting for the next entry kept (in document order, at any depth)
   * to stand above: what was said above a removed entry usually introduces what follows too.
   */
  private pending = ''

  private withPending<T extends MapEntry | SeqItem>(c: T, before: string): T {
    return before ? { ...c, head: before + c.head } : c
  }

  /** Null (the entry is written anew); the comment lines above its entries wait for the next entry. */
  private emptied(children: ReadonlyArray<MapEntry | SeqItem>): null {
    for (const c of children) {
      this.pending += keptHead(c.head)
      if (c.span) this.keptWithin.push([c.span[0], c.span[0] + c.head.length])
    }
    return null
  }

  private map(n: MapNode, want: Obj, path: string[]): MapNode {
    const entries: MapEntry[] = []
    const merges = this.merging && n.entries.some((e) => e.key === '<<')
    for (const e of n.entries) {
      if (merges && e.key === '<<') {
        entries.push(e)
        continue
      }
      if (!Object.hasOwn(want, e.key)) {
        this.changes.push({ kind: 'removed', path: shown([...path, e.key]) })
        this.replace(e)
        this.pending += keptHead(e.head)
        continue
      }
      const before = this.pending
      this.pending = ''
      entries.push(this.withPending(this.entry(e, want[e.key], [...path, e.key]), before))
    }
    const have = new Set(n.entries.map((e) => e.key))
    // Keys the merge keys bring: an unchanged one stays theirs; a changed one is written in this map, whose
    // own keys win over merged ones (YAML's rule), so the anchor and its other uses stay as they are.
    const merged = merges ? this.mergedNow(n, path) : {}
    for (const k of Object.keys(merged)) {
      if (!have.has(k) && !Object.hasOwn(want, k)) throw new Unwritable(`${shown([...path, k])} comes from a merge key (<<) and was removed: the text cannot say so without changing the anchor`)
    }
    for (const k of Object.keys(want)) {
      if (have.has(k)) continue
      if (merges && Object.hasOwn(merged, k)) {
        if (sameData(merged[k], want[k])) continue
        this.changes.push({ kind: 'changed', path: shown([...path, k]) })
        entries.push({ ...this.freshEntry(k, want[k]), head: '' })
        continue
      }
      this.changes.push({ kind: 'added', path: shown([...path, k]) })
      entries.push({ ...this.freshEntry(k, want[k]), head: separator(n.entries) })
    }
    return { ...n, entries }
  }

  private entry(e: MapEntry, want: unknown, path: string[]): MapEntry {
    this.changedAtAnchor(e, path, want)
    const value = this.node(e.value, want, path)
    if (value === e.value) return e
    if (!value || (value.t !== 'map' && value.t !== 'seq')) this.replace(e)
    if (value) return { ...e, value }
    this.changes.push({ kind: 'changed', path: shown(path) })
    const f = this.freshEntry(e.key, want, this.anchored(e, path, want))
    return { ...f, keyRaw: e.keyRaw, head: e.head, trail: keepTrail(e.trail, f) }
  }

  private seq(n: SeqNode, want: unknown[], path: string[]): SeqNode {
    const have = n.items.map((i) => this.data(i.value))
    const pairs = matchData(have, want, this.rules.at(rulePath(path)).identity)
    const used = new Set(pairs.filter((i): i is number => i !== undefined))
    // A removed item's comment lines stay, above the item that followed it.
    const orphanHead = new Map<number, string>()
    let carry = ''
    let before = this.pending
    this.pending = ''
    n.items.forEach((it, i) => {
      if (!used.has(i)) {
        this.changes.push({ kind: 'removed', path: shown([...path, String(i)]) })
        this.replace(it)
        carry += keptHead(it.head)
      } else if (carry) {
        orphanHead.set(i, carry)
        carry = ''
      }
    })
    let last = -1
    const items = want.map((w, j): SeqItem => {
      const i = pairs[j]
      const p = [...path, itemSeg(j)]
      if (i === undefined) {
        this.changes.push({ kind: 'added', path: shown([...path, String(j)]) })
        return { ...this.freshItem(w), head: separator(n.items) }
      }
      if (i < last) this.changes.push({ kind: 'moved', path: shown([...path, String(j)]) })
      last = Math.max(last, i)
      const it = n.items[i]!
      const orphan = before + this.pending + (orphanHead.get(i) ?? '')
      before = ''
      this.pending = ''
      this.changedAtAnchor(it, p, w)
      const value = this.node(it.value, w, p)
      if (value !== it.value && (!value || (value.t !== 'map' && value.t !== 'seq'))) this.replace(it)
      let out: SeqItem
      if (value === it.value) out = it
      else if (value) out = { ...it, value }
      else {
        this.changes.push({ kind: 'changed', path: shown([...path, String(j)]) })
        const f = this.freshItem(w, this.anchored(it, p, w))
        out = { ...f, head: it.head, trail: keepTrail(it.trail, f) }
      }
      return this.withPending(out, orphan)
    })
    this.pending = before + this.pending + carry
    return { ...n, items }
  }

  /** Notes the base text of `c`'s own lines (see `replaced`); parsed entries know where they stood. */
  private replace(c: MapEntry | SeqItem): void {
    if (c.span) this.replaced.push([Math.min(c.span[0] + c.head.length, c.span[1]), c.span[1]])
  }

  private opts() {
    return { indent: this.style.indent, indentSeq: this.style.indentSeq, lineWidth: 0, minContentWidth: 0 }
  }

  /**
   * Paths written anew at an anchor (`anchored`): the caller's check says which, when the result does not hold
   * the dump's data (the dump changed the value at one of its uses only).
   */
  readonly atAnchors: string[] = []

  /** The anchor a replaced node had, to keep on its new value (the data was read resolved: `merging`). */
  private anchorWant = new Map<string, unknown>()

  /** Whether `n` holds an alias of an anchor written anew (`anchored`): its old data says nothing then. */
  private usesRewritten(n: Node): boolean {
    if (this.anchorWant.size === 0) return false
    const text = n.t === 'opaque' ? n.raw : n.t === 'map' || n.t === 'seq' || n.t === 'fmap' || n.t === 'fseq' ? renderNodeText(n, 0, 0) : ''
    for (const m of text.matchAll(/\*([^\s,[\]{}]+)/g)) if (this.anchorWant.has(m[1]!)) return true
    return false
  }

  /** What a map's merge keys bring now: one `<<: *name` of an anchor written anew brings its new value. */
  private mergedNow(n: MapNode, path: string[]): Obj {
    const old = this.data(n) as Obj
    const m = n.entries.filter((e) => e.key === '<<')
    if (!m.some((e) => this.usesRewritten(e.value))) return old
    const name = m.length === 1 && m[0]!.value.t === 'opaque' ? /^\*(\S+)$/.exec(m[0]!.value.raw.trim())?.[1] : undefined
    const now = name === undefined ? undefined : this.anchorWant.get(name)
    if (!isObj(now)) throw new Unwritable(`${this.atAnchors.join(', ')}: written at its anchor, it is no mapping the merge key (<<) at ${shown(path) || 'the top'} can use, or that merges more than one`)
    return now
  }

  /**
   * An anchored collection (its anchor in the separator: `anchorsep.ts` anchoredCollection) whose data changed: it
   * is changed in place, and what uses the anchor stands for the new value (`usesRewritten`), as for an opaque
   * anchored node written anew (`anchored`).
   */
  private changedAtAnchor(c: MapEntry | SeqItem, path: string[], want: unknown): void {
    if (this.merging && sepAnchor(c.sep) !== null && !sameData(this.data(c.value), want)) this.anchored(c, path, want)
  }

  /** The anchor a replaced node had, and whether its value was written in flow style (`&tags [a, b]`). */
  private anchored(c: MapEntry | SeqItem, path: string[], want: unknown): Anchor | undefined {
    const [n, inSep] = [c.value, this.merging ? sepAnchor(c.sep) : null]
    const name = inSep ?? (this.merging ? anchorOf(n) : null)
    if (name === null) return undefined
    this.anchorWant.set(name, want)
    if (!this.atAnchors.some((a) => a.endsWith(`(&${name})`))) this.atAnchors.push(`${shown(path) || 'the top'} (&${name})`)
    return { name, flow: inSep !== null ? n.t === 'fmap' || n.t === 'fseq' : /^&\S+[ \t]+[[{]/.test((n as { raw: string }).raw) }
  }

  private freshEntry(key: string, value: unknown, anchor?: Anchor): MapEntry {
    const root = parseYaml(this.print({ [key]: value }, anchor === undefined ? undefined : key, anchor)).root as MapNode
    return root.entries[0]!
  }

  private freshItem(value: unknown, anchor?: Anchor): SeqItem {
    const root = parseYaml(this.print([value], anchor === undefined ? undefined : 0, anchor)).root as SeqNode
    return root.items[0]!
  }

  private print(data: unknown, at?: string | number, anchor?: Anchor): string {
    if (at === undefined || anchor === undefined) return stringify(data, this.opts())
    const doc = new Document(data)
    const v = doc.getIn([at], true)
    if (isNode(v)) v.anchor = anchor.name
    if (isCollection(v)) v.flow = anchor.flow
    return doc.toString(this.opts())
  }

  /**
   * A changed flow collection, printed again. A list of scalars keeps its look: its quoting (of its first
   * item) and whether the brackets hug the items.
   */
  private flow(old: Node, want: unknown): Node | null {
    let text = stringify(want, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd()
    if (old.t === 'fseq' && Array.isArray(want) && want.every((w) => w === null || typeof w !== 'object')) {
      const like = old.items[0]?.value.t === 'scalar' ? old.items[0].value.raw : ''
      const items = want.map((w) => flowScalar(w, like))
      const hug = !/^\s/.test(old.items[0]?.pre ?? ' ')
      text = items.length === 0 ? '[]' : hug ? `[${items.join(', ')}]` : `[ ${items.join(', ')} ]`
    }
    const root = parseYaml(`k: ${text}\n`).root
    return root?.t === 'map' ? root.entries[0]!.value : null
  }

  /** A new block scalar in the old one's style (literal or folded, same indentation), chomping as needed. */
  private block(n: BlockScalarNode, want: string): Node | null {
    const trailing = /\n*$/.exec(want)![0].length
    const body = want.slice(0, want.length - trailing)
    const style = n.header.startsWith('>') && !body.includes('\n') ? '>' : '|'
    const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+'
    const lines = (body + '\n'.repeat(Math.max(0, trailing - 1))).split('\n')
    // Characters a block scalar cannot hold, or lines it would read otherwise: a quoted scalar instead.
    if (/[\r\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufeff]/.test(want) || body === '' || /^\s/.test(lines[0]!)) {
      return { t: 'scalar', raw: JSON.stringify(want) }
    }
    const pad = ' '.repeat(Math.max(1, n.indent))
    const text = `k: ${style}${chomp}\n${lines.map((l) => (l === '' ? '' : pad + l)).join('\n')}\n`
    const root = parseYaml(text).root
    const v = root?.t === 'map' ? root.entries[0]!.value : null
    return v?.t === 'block' ? { ...v, indent: n.indent } : null
  }
}

/** The indentation the file uses for nested mappings, and whether it indents sequences under their key. */
function styleOf(root: Node | null): Style {
  let indent: number | undefined
  let indentSeq: boolean | undefined
  const walk = (n: Node, depth: number) => {
    if (depth > 50 || (indent !== undefined && indentSeq !== undefined)) return
    if (n.t === 'map') {
      for (const e of n.entries) {
        if (e.value.t === 'map' && indent === undefined && e.value.indent > 0) indent = e.value.indent
        if (e.value.t === 'seq' && indentSeq === undefined && /\n/.test(e.sep)) indentSeq = e.value.indent > 0
        walk(e.value, depth + 1)
      }
    } else if (n.t === 'seq') for (const i of n.items) walk(i.value, depth + 1)
  }
  if (root) walk(root, 0)
  return { indent: indent !== undefined && indent <= 8 ? indent : 2, indentSeq: indentSeq ?? true }
}

/** Sequence items' path segments carry their index for messages; the rules see ITEM. */
const ITEM_MARK = '\u0000'
const itemSeg = (j: number) => ITEM_MARK + String(j)
const rulePath = (path: readonly string[]) => path.map((s) => (s.startsWith(ITEM_MARK) ? ITEM : s))
const shown = (path: readonly string[]) => path.map((s) => (s.startsWith(ITEM_MARK) ? s.slice(1) : s)).join('.')

/** A new entry is set apart like the last one was (by its blank lines; its comments are its own). */
function separator(children: ReadonlyArray<MapEntry | SeqItem>): string {
  const h = children.length > 1 ? children[children.length - 1]!.head : ''
  return /^\n*/.exec(h)![0]
}

/** The comment lines of a head (its blank lines go with the entry). */
function keptHead(head: string): string {
  return head.split(/(?<=\n)/).filter((l) => l.trim().startsWith('#')).join('')
}

/** A replaced value keeps the comment on its last line when the new value is one line too. */
function keepTrail(old: string, fresh: MapEntry | SeqItem): string {
  const oneLine = fresh.value.t === 'scalar' || fresh.value.t === 'fseq' || fresh.value.t === 'fmap'
  return oneLine && old.includes('#') && !old.slice(0, -1).includes('\n') ? old : fresh.trail
}

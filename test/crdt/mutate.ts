/**
 * Random but valid edits of a todos file, made the way a person or an agent would: on the text, through
 * the IR, so the result keeps the file's formatting and comments. Used by the randomized convergence tests.
 */
import type { DocIR, MapEntry, MapNode, Node, SeqItem, SeqNode } from '../../src/crdt/ir.js'
import { parseYaml } from '../../src/crdt/parse.js'
import { renderDoc } from '../../src/crdt/render.js'

export type Rng = () => number

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!
const int = (rng: Rng, n: number) => Math.floor(rng() * n)

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'ship it', 'review', 'done', 'todo', 'blocked', 'later']
const STATUSES = ['todo', 'in_progress', 'review', 'done', 'blocked']

function word(rng: Rng): string {
  const w = pick(rng, WORDS) + (rng() < 0.5 ? '' : ' ' + int(rng, 100))
  return rng() < 0.3 ? JSON.stringify(w) : /^[a-z]/.test(w) && !w.includes(': ') ? w : JSON.stringify(w)
}

export function todosList(ir: DocIR): SeqNode | null {
  if (ir.root?.t !== 'map') return null
  const e = ir.root.entries.find((x) => x.key === 'todos')
  return e && e.value.t === 'seq' ? e.value : null
}

function entry(m: MapNode, key: string): MapEntry | undefined {
  return m.entries.find((e) => e.key === key)
}

export function itemId(it: SeqItem): string | undefined {
  if (it.value.t !== 'map') return undefined
  const e = entry(it.value, 'id')
  return e && e.value.t === 'scalar' ? e.value.raw.replace(/"/g, '') : undefined
}

export function newTodo(id: string, rng: Rng): SeqItem {
  const entries: MapEntry[] = [
    { key: 'id', keyRaw: 'id', head: '', sep: ': ', value: { t: 'scalar', raw: JSON.stringify(id) }, trail: '\n' },
    { key: 'title', keyRaw: 'title', head: '', sep: ': ', value: { t: 'scalar', raw: word(rng) }, trail: '\n' },
    { key: 'status', keyRaw: 'status', head: '', sep: ': ', value: { t: 'scalar', raw: pick(rng, STATUSES) }, trail: '\n' },
    {
      key: 'tags', keyRaw: 'tags', head: '', sep: ': ', trail: '\n',
      value: { t: 'fseq', close: '', items: [{ pre: '', value: { t: 'scalar', raw: pick(rng, WORDS).replace(' ', '-') }, post: '' }] },
    },
  ]
  return { head: rng() < 0.3 ? '\n' : '', sep: '- ', value: { t: 'map', entries, indent: 2 }, trail: '' }
}

export interface EditOptions {
  /** Ids this peer may touch (ownership tests); undefined = any. */
  owned?: (id: string) => boolean
  idPool: readonly string[]
}

/** Applies one random edit to `text` and returns the new text (or the same text when nothing applied). */
export function randomEdit(text: string, rng: Rng, opts: EditOptions): { text: string; what: string } {
  const ir = parseYaml(text)
  const list = todosList(ir)
  if (!list) return { text, what: 'none' }
  const mine = list.items.filter((it) => {
    const id = itemId(it)
    return id !== undefined && (!opts.owned || opts.owned(id))
  })
  const r = rng()
  let what = 'none'
  if (r < 0.3 && mine.length) {
    const it = pick(rng, mine)
    const m = it.value as MapNode
    const e = pick(rng, m.entries.filter((x) => x.key === 'title' || x.key === 'status'))
    if (e) {
      e.value = { t: 'scalar', raw: e.key === 'status' ? pick(rng, STATUSES) : word(rng) }
      what = `set ${itemId(it)}.${e.key}`
    }
  } else if (r < 0.45) {
    const free = opts.idPool.filter((id) => (!opts.owned || opts.owned(id)) && !list.items.some((it) => itemId(it) === id))
    if (free.length) {
      const id = pick(rng, free)
      list.items.splice(int(rng, list.items.length + 1), 0, newTodo(id, rng))
      what = `add ${id}`
    }
  } else if (r < 0.55 && mine.length > 1) {
    const it = pick(rng, mine)
    list.items.splice(list.items.indexOf(it), 1)
    what = `delete ${itemId(it)}`
  } else if (r < 0.65 && mine.length > 1) {
    const it = pick(rng, mine)
    list.items.splice(list.items.indexOf(it), 1)
    list.items.splice(int(rng, list.items.length + 1), 0, it)
    what = `move ${itemId(it)}`
  } else if (r < 0.8 && mine.length) {
    const it = pick(rng, mine)
    const tags = entry(it.value as MapNode, 'tags')
    if (tags && tags.value.t === 'fseq') {
      const items = tags.value.items
      if (rng() < 0.6 || items.length === 0) {
        items.splice(int(rng, items.length + 1), 0, { pre: items.length ? ' ' : '', value: { t: 'scalar', raw: pick(rng, WORDS).replace(' ', '-') }, post: '' })
        items.forEach((x, i) => (x.pre = i === 0 ? '' : ' '))
        what = `tag+ ${itemId(it)}`
      } else {
        items.splice(int(rng, items.length), 1)
        items.forEach((x, i) => (x.pre = i === 0 ? '' : ' '))
        what = `tag- ${itemId(it)}`
      }
    }
  } else if (r < 0.92 && mine.length) {
    const it = pick(rng, mine)
    const m = it.value as MapNode
    let d = entry(m, 'description')
    if (!d) {
      d = { key: 'description', keyRaw: 'description', head: '', sep: ': ', trail: '', value: { t: 'block', header: '|\n', indent: 2, lines: [{ text: 'first line' }] } }
      m.entries.push(d)
      what = `desc+ ${itemId(it)}`
    } else if (d.value.t === 'block') {
      const lines = d.value.lines
      const op = rng()
      if (op < 0.5 || lines.length < 2) lines.splice(int(rng, lines.length + 1), 0, { text: `${pick(rng, WORDS)} ${int(rng, 1000)}` })
      else if (op < 0.75) lines.splice(int(rng, lines.length), 1)
      else lines[int(rng, lines.length)] = { text: `edited ${int(rng, 1000)}` }
      what = `desc~ ${itemId(it)}`
    }
  } else if (mine.length) {
    const it = pick(rng, mine)
    const e = pick(rng, (it.value as MapNode).entries.filter((x) => x.key !== 'id'))
    if (e && e.value.t === 'scalar') {
      e.trail = rng() < 0.5 ? `  # note ${int(rng, 100)}\n` : '\n'
      what = `comment ${itemId(it)}`
    }
  }
  const out = renderDoc(ir)
  try {
    parseYaml(out)
  } catch {
    return { text, what: 'invalid' }
  }
  return { text: out, what }
}

export function ids(text: string): string[] {
  const list = todosList(parseYaml(text))
  return list ? list.items.map((it) => itemId(it) ?? '?') : []
}

export function valueAt(text: string, id: string, key: string): string | undefined {
  const list = todosList(parseYaml(text))
  const it = list?.items.find((x) => itemId(x) === id)
  if (!it || it.value.t !== 'map') return undefined
  const e = entry(it.value, key)
  return e ? renderNodeText(e.value) : undefined
}

function renderNodeText(n: Node): string {
  return renderDoc({ head: '', root: n, trail: '' })
}

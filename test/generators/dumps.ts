/**
 * A seeded generator of library dumps (issue 13 item 7): what an agent does when it loads a context file with
 * a YAML library, changes a few values and dumps it. Data changes are made on the loaded data — a scalar
 * changed (one-line, multi-line, another type), a list item added, removed or moved, a key added or removed,
 * a mapping or list emptied (`null`, `{}`, `[]`) —
 * and the result is dumped with (a) the `yaml` package's `stringify` with default options and (b) PyYAML's
 * `safe_dump(sort_keys=True, default_flow_style=False, width=80)`, the real one through python3 when it is
 * there (`pyyamlDump`, one process for a whole batch), else an imitation with the `yaml` package.
 *
 * Each change records the paths of the *original* file it touches, so a check can bound which of the
 * original's lines may change (`touchedLines`).
 */
import { spawnSync } from 'node:child_process'
import { parse, stringify } from 'yaml'
import type { Rng } from '../helpers/random.js'
import type { DocIR, Node } from '../../src/crdt/ir.js'
import { renderNodeText } from '../../src/crdt/render.js'

export type Path = Array<string | number>
type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const pick = <T>(a: readonly T[], r: Rng): T => a[Math.floor(r() * a.length)]!
const WORDS = ['done', 'in_progress', 'needs review', 'retry: later', 'café au lait', "it's fine", 'yes', '42', 'a # not a comment', '🚀 launch', '"quoted"']

export interface Mutated {
  data: unknown
  kinds: string[]
  /** Paths of the original data whose lines may change (a value changed, an item removed or moved). */
  touched: Path[]
  /** Items moved (swapped): their lines and the comment lines above them move along. */
  moved: Path[]
  /** Collections something was added to: their lines may change when they are flow (`[a, b]`). */
  grown: Path[]
  /**
   * Collections of two or more entries that removals left empty: written `{}` / `[]` on their key's line, which
   * changes too (keep-format dump seed 68016: both keys of `hotfix:` removed).
   */
  emptied: Path[]
}

interface Site {
  path: Path
  parent: Obj | unknown[]
  key: string | number
  value: unknown
}

function sites(root: unknown): Site[] {
  const out: Site[] = []
  const walk = (v: unknown, path: Path) => {
    if (Array.isArray(v)) v.forEach((x, i) => (out.push({ path: [...path, i], parent: v, key: i, value: x }), walk(x, [...path, i])))
    else if (isObj(v)) for (const [k, x] of Object.entries(v)) out.push({ path: [...path, k], parent: v, key: k, value: x }), walk(x, [...path, k])
  }
  walk(root, [])
  return out
}

function newScalar(r: Rng, old: unknown): unknown {
  const x = r()
  if (x < 0.55) return pick(WORDS, r)
  if (x < 0.7) return typeof old === 'number' ? old + 1 : Math.floor(r() * 1000)
  if (x < 0.8) return r() < 0.5
  if (x < 0.9) return `line one\nline two ${Math.floor(r() * 100)}\n`
  return `${typeof old === 'string' ? old : 'text'} (edited)`
}

function newItem(r: Rng, like: unknown, n: number): unknown {
  if (isObj(like)) {
    const o: Obj = {}
    for (const k of Object.keys(like).slice(0, 3)) o[k] = isObj(like[k]) || Array.isArray(like[k]) ? [] : k === 'id' ? `NEW-${n}` : pick(WORDS, r)
    return o
  }
  return pick(WORDS, r)
}

/** One to three data changes on a copy of `data`, each on the original's structure (indexes stay valid). */
export function mutate(data: unknown, r: Rng): Mutated {
  const copy = structuredClone(data)
  const all = sites(copy)
  const kinds: string[] = []
  const touched: Path[] = []
  const grown: Path[] = []
  const moved: Path[] = []
  // Removed items by position (equal scalars elsewhere are other items); containers by identity.
  const removedAt = new Map<unknown[], Set<number>>()
  const removed = new Set<unknown>()
  const inserts: Array<{ arr: unknown[]; at: number; value: unknown }> = []
  const keyRemovals: Array<{ parent: Obj; path: Path }> = []
  const sizes = new Map<unknown, number>(all.map((x) => [x.value, isObj(x.value) ? Object.keys(x.value).length : Array.isArray(x.value) ? x.value.length : 0]))
  const arrays = all.filter((s) => Array.isArray(s.value) && (s.value as unknown[]).length > 0)
  const objects = [{ value: copy, path: [] as Path }, ...all].filter((s) => isObj(s.value))
  const n = 1 + (r() < 0.6 ? 0 : r() < 0.7 ? 1 : 2)
  for (let k = 0; k < n * 3 && kinds.length < n; k++) {
    const kind = pick(['change', 'change', 'change', 'add-item', 'remove-item', 'move-item', 'add-key', 'remove-key', 'empty'], r)
    if (kind === 'change') {
      const leaves = all.filter((s) => !isObj(s.value) && !Array.isArray(s.value) && !removed.has(s.parent))
      if (!leaves.length) continue
      const s = pick(leaves, r)
      ;(s.parent as Obj)[s.key as string] = newScalar(r, s.value)
      touched.push(s.path)
    } else if (kind === 'add-item' || kind === 'remove-item' || kind === 'move-item') {
      if (!arrays.length) continue
      const s = pick(arrays, r)
      const arr = s.value as unknown[]
      const i = Math.floor(r() * arr.length)
      if (kind === 'add-item') {
        inserts.push({ arr, at: Math.floor(r() * (arr.length + 1)), value: newItem(r, arr[i], k) })
        grown.push(s.path)
      } else if (kind === 'remove-item') {
        const at = removedAt.get(arr) ?? new Set<number>()
        if (at.has(i)) continue
        removedAt.set(arr, at.add(i))
        if (typeof arr[i] === 'object' && arr[i] !== null) removed.add(arr[i])
        touched.push([...s.path, i])
      } else {
        const j = Math.floor(r() * arr.length)
        if (i === j) continue
        ;[arr[i], arr[j]] = [arr[j], arr[i]]
        touched.push([...s.path, i], [...s.path, j])
        moved.push([...s.path, i], [...s.path, j])
      }
    } else if (kind === 'add-key') {
      const s = pick(objects, r)
      const key = pick(['added', 'owner', 'review_note', 'zz_last', 'aa_first'], r)
      if (Object.hasOwn(s.value as Obj, key)) continue
      ;(s.value as Obj)[key] = r() < 0.7 ? pick(WORDS, r) : { nested: pick(WORDS, r), list: [1, 2] }
      grown.push(s.path)
    } else if (kind === 'empty') {
      // A whole block emptied or nulled, with the comments inside it (human edit seed 200183 was a person's
      // save of that kind taken for a dump: dumps of it must still be told from it by the other comments).
      const blocks = all.filter((s) => (isObj(s.value) ? Object.keys(s.value).length > 0 : Array.isArray(s.value) && s.value.length > 0) && !removed.has(s.parent))
      if (!blocks.length) continue
      const s = pick(blocks, r)
      ;(s.parent as Obj)[s.key as string] = pick([null, {}, []], r)
      removed.add(s.value)
      touched.push(s.path)
    } else {
      const keyed = all.filter((s) => isObj(s.parent) && s.path.length > 0)
      if (!keyed.length) continue
      const s = pick(keyed, r)
      if (!Object.hasOwn(s.parent as Obj, s.key as string)) continue
      delete (s.parent as Obj)[s.key as string]
      touched.push(s.path)
      keyRemovals.push({ parent: s.parent as Obj, path: s.path.slice(0, -1) })
    }
    kinds.push(kind)
  }
  // Removals first (their indexes are the original's), then inserts, from the end.
  for (const [arr, at] of removedAt) for (const i of [...at].sort((a, b) => b - a)) arr.splice(i, 1)
  for (const ins of inserts.sort((a, b) => b.at - a.at)) ins.arr.splice(Math.min(ins.at, ins.arr.length), 0, ins.value)
  const emptied: Path[] = []
  const seen = new Set<unknown>()
  for (const { parent, path } of keyRemovals) {
    if (seen.has(parent) || removed.has(parent)) continue
    seen.add(parent)
    if (Object.keys(parent).length === 0 && (sizes.get(parent) ?? 0) > 1) emptied.push(path)
  }
  for (const x of all) if (Array.isArray(x.value) && removedAt.has(x.value) && x.value.length === 0 && (sizes.get(x.value) ?? 0) > 1 && !removed.has(x.value)) emptied.push(x.path)
  const drop = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(drop)
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, drop(x)]))
    return v
  }
  return { data: drop(copy), kinds, touched, grown, moved, emptied }
}

/**
 * Lines of the original text that the touched paths span: the entry's own line(s), its value's, and the
 * blank lines above it (they go with a removed entry).
 */
export function touchedLines(ir: DocIR, paths: Path[], grown: Path[] = [], moved: Path[] = [], emptied: Path[] = []): number {
  let n = 0
  const find = (p: Path) => {
    let node: Node | null = ir.root
    let head = ''
    let inlineFirst = false
    let only = false
    for (const seg of p) {
      // An opaque value (an anchored one) is written anew whole when anything inside it changes.
      if (!node || node.t === 'opaque') break
      let child: { value: Node; head?: string } | undefined
      const wasItem = inlineFirst
      inlineFirst = false
      if (node.t === 'map' || node.t === 'fmap') {
        const entries = node.entries as Array<{ key: string; value: Node }>
        child = entries.find((x) => x.key === String(seg))
        only = entries.length === 1
        // The first key of a list item shares the dash's line: removing it rewrites that line.
        inlineFirst = wasItem && child === entries[0]
      } else if (node.t === 'seq' || node.t === 'fseq') {
        child = (node.items as Array<{ value: Node }>)[seg as number]
        inlineFirst = node.t === 'seq'
        only = node.items.length === 1
      }
      node = child?.value ?? null
      head = child?.head ?? ''
    }
    return { node, head, inlineFirst, only }
  }
  const linesOf = (node: Node) => 1 + (renderNodeText(node, 0, 0).match(/\n/g)?.length ?? 0)
  for (const p of paths) {
    // An emptied collection is written `{}` / `[]` on its key's line.
    const { node, head, inlineFirst, only } = find(p)
    n += (node ? linesOf(node) : 1) + (inlineFirst ? 1 : 0) + (only ? 1 : 0) + head.split('\n').filter((l, i, a) => i < a.length - 1 && l.trim() === '').length
  }
  for (const p of moved) n += find(p).head.split('\n').length - 1
  n += emptied.length
  for (const p of grown) {
    const { node } = find(p)
    if (node && (node.t === 'fseq' || node.t === 'fmap')) n += linesOf(node)
  }
  return n
}

/** Comment lines inside the touched values (a removed value takes its own comments along). */
export function touchedComments(ir: DocIR, paths: Path[]): string[] {
  const out: string[] = []
  for (const p of paths) {
    let node: Node | null = ir.root
    for (const seg of p) {
      if (!node) break
      if (node.t === 'map' || node.t === 'fmap') node = (node.entries as Array<{ key: string; value: Node }>).find((x) => x.key === String(seg))?.value ?? null
      else if (node.t === 'seq' || node.t === 'fseq') node = (node.items as Array<{ value: Node }>)[seg as number]?.value ?? null
      else node = null
    }
    if (node) out.push(...renderNodeText(node, 0, 0).split('\n').filter((l) => /^\s*#/.test(l)).map((l) => l.trim()))
  }
  return out
}

export const yamlDump = (data: unknown): string => stringify(data)

/** PyYAML's dumps of `datas`, or null (with the reason) when python3 with PyYAML is not there. */
export function pyyamlDump(datas: unknown[], o: { unicode?: boolean } = {}): { texts: string[] } | { skipped: string } {
  const script = [
    'import json, sys, yaml',
    'for line in sys.stdin:',
    '    d = json.loads(line)',
    '    print(json.dumps(yaml.safe_dump(d["data"], default_flow_style=False, sort_keys=True, width=80, allow_unicode=d["unicode"])))',
  ].join('\n')
  const input = datas.map((d, i) => JSON.stringify({ data: d, unicode: o.unicode ?? i % 2 === 0 })).join('\n') + '\n'
  const r = spawnSync('python3', ['-c', script], { input, encoding: 'utf8', maxBuffer: 256 << 20 })
  if (r.error || r.status !== 0) return { skipped: `python3 with PyYAML not available (${r.error?.message ?? r.stderr.trim().split('\n').pop()})` }
  return { texts: r.stdout.trim().split('\n').map((l) => JSON.parse(l) as string) }
}

/**
 * `text` with about one in three of its plain one-line string values double-quoted, as a team writes some
 * (`title: "Café ☕"`: black-box tester stop 30, finding 6); null when it has none to quote.
 */
export function teamQuoted(text: string, r: Rng): string | null {
  let n = 0
  const lines = text.split('\n')
  const col = (l: string) => l.length - l.trimStart().length + (/^\s*- /.test(l) ? 2 : 0)
  const out = lines.map((line, i) => {
    const m = /^(\s*(?:- )?[\w.-]+: )(\p{L}[^"'#:\\[\]{},&*!|>%@`]*)$/u.exec(line)
    // A plain scalar folded onto deeper lines (PyYAML's width) is not one line.
    const next = lines[i + 1]
    if (!m || (next !== undefined && next.trim() !== '' && col(next) > col(line))) return line
    if (/\s$/.test(m[2]!) || /^(?:[yYnN]|yes|no|true|false|on|off|null)$/i.test(m[2]!) || r() >= 1 / 3) return line
    n++
    return `${m[1]}"${m[2]}"`
  })
  return n > 0 ? out.join('\n') : null
}

/** The PyYAML style imitated with the `yaml` package (where real PyYAML is missing). */
export const pyyamlLike = (data: unknown): string => stringify(data, { sortMapEntries: true, indentSeq: false, lineWidth: 80 })

/**
 * Data as a library reads it, aliases and merge keys resolved (PyYAML's `safe_load`; the parse both sides are
 * compared in).
 */
export const dataOf = (text: string): unknown => parse(text, { uniqueKeys: false, merge: true })

/** The top-level keys `withAnchors` adds, and the text each must still hold unless a change touched that key. */
export const ANCHORED: ReadonlyArray<readonly [string, string]> = [
  ['x_defaults', 'x_defaults: &ctxsync_base'],
  ['x_lead', 'x_lead: &ctxsync_lead'],
  ['x_tags', 'x_tags: &ctxsync_tags'],
  ['x_uses', '  <<: *ctxsync_base'],
]

/**
 * `text` with anchors, aliases and merge keys appended at the top level (black-box tester stop 30, finding 4:
 * a library's load expands them and its dump writes them out, so a dump's data must be compared resolved and
 * applied keeping them); null for a file whose top is not a block mapping.
 */
export function withAnchors(text: string, ir: DocIR): string | null {
  if (ir.root?.t !== 'map' || ir.root.indent !== 0 || !text.endsWith('\n') || ir.root.entries.some((e) => e.key.startsWith('x_'))) return null
  const eol = text.endsWith('\r\n') ? '\r\n' : '\n'
  const lines = [
    '# anchors, aliases and merge keys',
    'x_defaults: &ctxsync_base',
    '  owner: ann   # who answers',
    '  area: core',
    'x_lead: &ctxsync_lead alice',
    'x_tags: &ctxsync_tags [core, api]',
    'x_uses:',
    '  <<: *ctxsync_base',
    '  lead: *ctxsync_lead   # the lead answers',
    '  tags: *ctxsync_tags',
    '  retries: 3',
  ]
  return text + lines.join(eol) + eol
}

/** Only data JSON carries unchanged can go through python (no NaN or Infinity). */
export const jsonSafe = (v: unknown): boolean =>
  typeof v === 'number' ? Number.isFinite(v) : Array.isArray(v) ? v.every(jsonSafe) : isObj(v) ? Object.values(v).every(jsonSafe) : true

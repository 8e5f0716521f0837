/**
 * Fields of a context file by key path, as people name them: `todos[id=T-3].status`, `scope.name`,
 * `tags[2]`. A list item that carries an `id` (or a `name`, Rhema's identity keys) is named by it, so a
 * path stays the same when items move. Used to say which fields a version changed (history, diff) and who
 * set each field (blame); computed when asked, never on the live path.
 */
import { parse } from 'yaml'

export type Flat = { leaves: Map<string, string>; nodes: Set<string> }

const IDENT = /^[A-Za-z_][\w-]*$/

function keyPath(parent: string, key: string): string {
  if (IDENT.test(key)) return parent ? `${parent}.${key}` : key
  return `${parent}[${JSON.stringify(key)}]`
}

function itemPath(parent: string, item: unknown, i: number): string {
  if (item && typeof item === 'object' && !Array.isArray(item)) {
    for (const k of ['id', 'name']) {
      const v = (item as Record<string, unknown>)[k]
      if (typeof v === 'string' || typeof v === 'number') return `${parent}[${k}=${v}]`
    }
  }
  return `${parent}[${i}]`
}

export function flatten(text: string | null): Flat {
  const flat: Flat = { leaves: new Map(), nodes: new Set() }
  if (text === null) return flat
  let data: unknown
  try {
    data = parse(text, { uniqueKeys: false, maxAliasCount: 100, logLevel: 'error' })
  } catch {
    flat.leaves.set('(unparsed)', JSON.stringify(text.slice(0, 80)))
    return flat
  }
  const walk = (v: unknown, p: string) => {
    if (p) flat.nodes.add(p)
    if (Array.isArray(v)) {
      if (v.length === 0) flat.leaves.set(p, '[]')
      v.forEach((x, i) => walk(x, itemPath(p, x, i)))
    } else if (v && typeof v === 'object' && !(v instanceof Date)) {
      const entries = Object.entries(v as Record<string, unknown>)
      if (entries.length === 0) flat.leaves.set(p, '{}')
      for (const [k, x] of entries) walk(x, keyPath(p, k))
    } else flat.leaves.set(p, v instanceof Date ? v.toISOString() : JSON.stringify(v ?? null))
  }
  walk(data, '')
  return flat
}

export interface FieldChange { path: string; kind: 'changed' | 'added' | 'removed'; before?: string; after?: string }

/** What changed from `a` to `b`: leaves, or the whole item or key when it came or went. */
export function diffFlat(a: Flat, b: Flat): FieldChange[] {
  const out = new Map<string, FieldChange>()
  // The shortest ancestor of `p` (or `p`) that `side` lacks: an item that came or went is one change.
  const wholeOf = (p: string, side: Flat): string | null => {
    for (let i = 1; i <= p.length; i++) {
      if (i < p.length && p[i] !== '.' && p[i] !== '[') continue
      const pre = p.slice(0, i)
      if (!side.nodes.has(pre) && !side.leaves.has(pre)) return pre
    }
    return null
  }
  for (const [p, v] of a.leaves) {
    const w = b.leaves.get(p)
    if (w === v) continue
    if (w !== undefined) out.set(p, { path: p, kind: 'changed', before: v, after: w })
    else {
      const whole = wholeOf(p, b) ?? p
      if (!out.has(whole)) out.set(whole, { path: whole, kind: 'removed', before: whole === p ? v : summary(a, whole) })
    }
  }
  for (const [p, w] of b.leaves) {
    if (a.leaves.has(p)) continue
    const whole = wholeOf(p, a) ?? p
    if (!out.has(whole)) out.set(whole, { path: whole, kind: 'added', after: whole === p ? w : summary(b, whole) })
  }
  return [...out.values()]
}

function summary(f: Flat, prefix: string): string {
  const parts: string[] = []
  for (const [p, v] of f.leaves) if (p.startsWith(prefix) && (p.length === prefix.length || p[prefix.length] === '.' || p[prefix.length] === '[')) parts.push(`${p.slice(prefix.length).replace(/^\./, '') || '.'}: ${v}`)
  const s = parts.join(', ')
  return s.length > 120 ? s.slice(0, 117) + '…' : s
}

/** The file's entries as a person counts them: each top-level key's items or keys (a scalar counts 1). */
export function countEntries(text: string | null): number {
  if (text === null) return 0
  let data: unknown
  try {
    data = parse(text, { uniqueKeys: false, maxAliasCount: 100, logLevel: 'error' })
  } catch {
    return 0
  }
  if (!data || typeof data !== 'object') return data == null ? 0 : 1
  let n = 0
  for (const v of Array.isArray(data) ? data : Object.values(data as Record<string, unknown>)) {
    n += Array.isArray(v) ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 1
  }
  return n
}

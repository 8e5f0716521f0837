/**
 * Merge rules: how the values at a key path merge. Decided by the path (and the file), never by a value's
 * current content, so that adding an item without `id` or switching a list between flow and block style
 * does not change how the other items merge.
 *
 * A path is a list of keys, with `ITEM` standing for "an item of a list": `todos.*.tags` is
 * `['todos', ITEM, 'tags']`. In patterns, `*` matches one segment and `**` any number of them.
 *
 *   identity   keys tried in order as the identity of a list's mapping items (default `id`)
 *   set        a list of scalars with add-wins set semantics and no duplicates (`tags`)
 *   sequence   a list of scalars as a sequence: concurrent insertions all kept (the default)
 *   text       a multi-line string merged line by line (block scalars always are)
 *   counter    an integer whose concurrent increments add up (a PN-counter)
 *   register   one value, one winner (the default for scalars)
 *
 * Every peer must use the same rules (they are part of `ctxsync.yaml`, which is committed): rules decide
 * node identities, and peers with different rules would not recognise each other's items.
 */
import picomatch from 'picomatch'
import type { Node } from './ir.js'
import { scalarText } from './scalar.js'

export const ITEM = '\u0000item'

export type MergeKind = 'set' | 'sequence' | 'text' | 'counter' | 'register'
export const MERGE_KINDS: readonly MergeKind[] = ['set', 'sequence', 'text', 'counter', 'register']

export interface RuleSpec {
  /** Glob of the files the rule applies to (default: every tracked file). */
  files?: string
  /** Dot-separated key path; `*` one segment, `**` any number. */
  path: string
  identity?: string | string[]
  merge?: MergeKind
}

export interface Rule {
  identity: readonly string[]
  merge?: MergeKind
}

export interface Rules {
  at(path: readonly string[]): Rule
}

const RHEMA_FILE = (names: string) => (names.includes(',') ? `**/{${names}}.{yaml,yml}` : `**/${names}.{yaml,yml}`)

/** What ctxsync knows about Rhema's context files. User rules in `ctxsync.yaml` come after and win. */
export const BUILTIN_RULES: readonly RuleSpec[] = [
  { path: '**.tags', merge: 'set' },
  { path: '**.related', merge: 'set' },
  { path: '**.labels', merge: 'set' },
  { files: RHEMA_FILE('todos'), path: 'todos', identity: 'id' },
  { files: RHEMA_FILE('todos'), path: 'todos.*.blocked_by', merge: 'set' },
  { files: RHEMA_FILE('todos'), path: 'todos.*.dependencies', merge: 'set' },
  { files: RHEMA_FILE('knowledge'), path: '{insights,entries,knowledge}', identity: 'id' },
  { files: RHEMA_FILE('decisions'), path: 'decisions', identity: 'id' },
  { files: RHEMA_FILE('decisions'), path: 'decisions.*.alternatives', identity: ['name', 'id'] },
  { files: RHEMA_FILE('patterns'), path: 'patterns', identity: ['id', 'name'] },
  { files: RHEMA_FILE('conventions'), path: 'conventions', identity: ['id', 'name'] },
  { files: RHEMA_FILE('rhema,scope'), path: '**.dependencies', identity: ['path', 'name', 'id'] },
  { files: RHEMA_FILE('rhema,scope'), path: '**.scopes', identity: ['path', 'name', 'id'] },
]

interface Compiled {
  segments: string[]
  rule: Partial<Rule>
}

function compileSpec(s: RuleSpec): Compiled {
  const segments = s.path.split('.').filter((x) => x !== '')
  const rule: Partial<Rule> = {}
  if (s.identity !== undefined) rule.identity = Array.isArray(s.identity) ? s.identity : [s.identity]
  if (s.merge !== undefined) rule.merge = s.merge
  return { segments, rule }
}

/**
 * Globs compiled once per process. The built-in file globs (`todos.{yaml,yml}` in any directory) and key alternatives
 * (`{insights,entries}`) are matched without picomatch: compiling its matchers cold cost ~25 ms of every
 * short run that merges a file (the git merge driver).
 */
const matchers = new Map<string, (s: string) => boolean>()
const SIMPLE_FILE_GLOB = /^\*\*\/(?:\{([\w-]+(?:,[\w-]+)*)\}|([\w-]+))\.\{yaml,yml\}$/
const ALTERNATIVES = /^\{([^{}*?[\]]+)\}$/

function globMatcher(glob: string): (s: string) => boolean {
  let m = matchers.get(glob)
  if (m) return m
  const file = SIMPLE_FILE_GLOB.exec(glob)
  const alt = ALTERNATIVES.exec(glob)
  if (file) {
    const names = new Set((file[1] ?? file[2]!).split(','))
    m = (s) => {
      const base = s.slice(s.lastIndexOf('/') + 1)
      const dot = base.lastIndexOf('.')
      const ext = base.slice(dot + 1)
      return dot > 0 && (ext === 'yaml' || ext === 'yml') && names.has(base.slice(0, dot))
    }
  } else if (alt) {
    const names = new Set(alt[1]!.split(','))
    m = (s) => names.has(s)
  } else m = picomatch(glob, { dot: true })
  matchers.set(glob, m)
  return m
}

function segmentMatches(pattern: string, seg: string): boolean {
  if (pattern === '*') return true
  if (seg === ITEM) return false
  if (pattern.includes('{')) return globMatcher(pattern)(seg)
  return pattern === seg
}

function pathMatches(p: readonly string[], i: number, path: readonly string[], j: number): boolean {
  if (i === p.length) return j === path.length
  if (p[i] === '**') {
    for (let k = j; k <= path.length; k++) if (pathMatches(p, i + 1, path, k)) return true
    return false
  }
  return j < path.length && segmentMatches(p[i]!, path[j]!) && pathMatches(p, i + 1, path, j + 1)
}

/** The rules that apply to one file: built-ins, then the user's (later wins, property by property). */
export function compileRules(file: string, user: readonly RuleSpec[] = []): Rules {
  const specs = [...BUILTIN_RULES, ...user].filter((s) => !s.files || globMatcher(s.files)(file))
  const compiled = specs.map(compileSpec)
  const cache = new Map<string, Rule>()
  return {
    at(path) {
      const key = path.join('\u0001')
      let r = cache.get(key)
      if (!r) {
        r = { identity: ['id'] }
        for (const c of compiled) if (pathMatches(c.segments, 0, path, 0)) r = { ...r, ...c.rule }
        cache.set(key, r)
      }
      return r
    },
  }
}

export const defaultRules: Rules = compileRules('')

/** Checks user rules from `ctxsync.yaml`; returns a message for the first problem. */
export function ruleProblem(s: unknown): string | null {
  if (typeof s !== 'object' || s === null) return 'each rule must be a mapping with `path:` and `identity:` or `merge:`'
  const r = s as Record<string, unknown>
  if (typeof r.path !== 'string' || r.path.trim() === '') return 'a rule needs `path:` (e.g. "todos.*.tags")'
  if (r.files !== undefined && typeof r.files !== 'string') return '`files:` must be a glob'
  const id = r.identity
  if (id !== undefined && typeof id !== 'string' && !(Array.isArray(id) && id.length > 0 && id.every((x) => typeof x === 'string'))) {
    return '`identity:` must be a key name or a list of key names'
  }
  if (r.merge !== undefined && !MERGE_KINDS.includes(r.merge as MergeKind)) return `\`merge:\` must be one of ${MERGE_KINDS.join(', ')}`
  if (id === undefined && r.merge === undefined) return 'a rule needs `identity:` or `merge:`'
  return null
}

/** The identity value of a list item, when it is a mapping holding one of the identity keys as a scalar. */
export function identityOfIR(node: Node, rules: Rules, listPath: readonly string[]): string | undefined {
  const entries = node.t === 'map' ? node.entries : node.t === 'fmap' ? node.entries : null
  if (!entries) return undefined
  for (const k of rules.at(listPath).identity) {
    const e = entries.find((x) => x.key === k)
    if (e && e.value.t === 'scalar') return scalarText(e.value.raw)
  }
  return undefined
}

/** The element a set item stands for: a scalar's text (so `"a"` and `a` are one element). */
export function setElement(node: Node): string | undefined {
  return node.t === 'scalar' ? scalarText(node.raw) : undefined
}

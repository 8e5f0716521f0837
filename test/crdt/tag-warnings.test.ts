/**
 * A tag no schema knows (`!mytag`) is kept as written, and silently (black-box tester stop 32, finding 9b: both
 * daemons printed 8 un-timestamped 'YAMLWarning: Unresolved tag' blocks per change to stderr). The yaml
 * package's `parse()` prints a document's warnings, and `toJS` one for a collection used as a key, unless the
 * options' logLevel says not to: every read of a file's data passes `logLevel: 'error'` (errors still throw).
 */
import { afterEach, beforeEach, expect, test } from 'vitest'
import { valueOf } from '../../src/crdt/canonical.js'
import { loadData } from '../../src/crdt/datamatch.js'
import type { MapNode } from '../../src/crdt/ir.js'
import { parseYaml } from '../../src/crdt/parse.js'
import { peer, sync, text } from './helpers.js'

let warned: string[] = []
const emit = process.emitWarning
beforeEach(() => {
  warned = []
  process.emitWarning = ((w: string | Error) => void warned.push(String(typeof w === 'string' ? w : w.message).split('\n')[0]!)) as typeof process.emitWarning
})
afterEach(() => {
  process.emitWarning = emit
})

test('the value of a tagged node (conflict summaries, keep-format): no warning', () => {
  const root = parseYaml('d: !mytag some value\ne: !other {k: 1}\n').root as MapNode
  expect(root.entries.map((e) => valueOf(e.value))).toEqual(['some value', { k: 1 }])
  expect(warned).toEqual([])
})

test('a file’s data read for keep-format with a collection as a key: no warning', () => {
  expect(loadData('? [a, b]\n: 1\nt: !mytag x\n')).toEqual({ '[ a, b ]': 1, t: 'x' })
  expect(warned).toEqual([])
})

// staledata.ts readLeaves parsed without logLevel: 8 warnings in this story (s32-requests.txt 16:01).
test('a race and a stale save over tagged values: no warning', () => {
  const base = 'todos:\n  - id: T-1\n    title: !mytag Set up CI\n    status: todo\n  - id: T-2\n    meta: !other {a: 1}\n'
  const a = peer('ann', base)
  const b = peer('bob', base)
  a.ingest(base.replace('status: todo', 'status: doing'))
  b.ingest(base.replace('Set up CI', 'Set up CI 2'))
  sync(a, b)
  a.ingest(text(a)!.replace('a: 1', 'a: 2'))
  sync(a, b)
  expect(text(a)).toBe(text(b))
  expect(warned).toEqual([])
})

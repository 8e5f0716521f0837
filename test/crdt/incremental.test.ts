/**
 * The incremental parse must be indistinguishable from a full parse: for random edits (the convergence
 * harness's edits, and line edits of real files), whenever it answers, its IR renders the new text and
 * equals the full parse's IR. It must also decline the cases it cannot judge alone.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { incrementalParse } from '../../src/crdt/incremental.js'
import type { DocIR } from '../../src/crdt/ir.js'
import { parseYaml } from '../../src/crdt/parse.js'
import { renderDoc } from '../../src/crdt/render.js'
import { SEED_TODOS } from './converge.js'
import { mulberry32, randomEdit } from './mutate.js'

/** The IR without the bookkeeping that may legitimately differ (spans, ids). */
function shape(ir: DocIR): unknown {
  return JSON.parse(JSON.stringify(ir, (k, v) => (k === 'span' || k === 'id' ? undefined : v)))
}

function check(before: string, after: string): 'incremental' | 'declined' {
  const base = parseYaml(before)
  const r = incrementalParse(before, base, after)
  if (!r) return 'declined'
  expect(renderDoc(r.ir)).toBe(after)
  expect(shape(r.ir)).toEqual(shape(parseYaml(after)))
  // The spans describe the new text: every top-level entry's span holds exactly its own text.
  for (const c of (r.ir.root as { entries?: Array<never>; items?: Array<never> }).items ?? (r.ir.root as { entries?: Array<never> }).entries ?? []) {
    const span = r.spanOf(c)
    if (span) expect(span[1]).toBeLessThanOrEqual(after.length)
  }
  return 'incremental'
}

describe('incremental parse', () => {
  test('random harness edits: same IR as a full parse', () => {
    const rng = mulberry32(42)
    let text = SEED_TODOS
    const counts = { incremental: 0, declined: 0 }
    for (let i = 0; i < 400; i++) {
      const next = randomEdit(text, rng, { idPool: Array.from({ length: 12 }, (_, k) => `t${k}`) }).text
      if (next === text) continue
      counts[check(text, next)]++
      text = next
    }
    console.log(`incremental parse: ${counts.incremental} answered, ${counts.declined} declined (full parse)`)
    expect(counts.incremental).toBeGreaterThan(counts.declined)
  })

  test('line edits of real files', () => {
    const dir = path.resolve(__dirname, '../../fixtures/rhema')
    const files = ['_history/2074bd7/.rhema/todos.yaml', '_history/21beca1/.rhema/todos.yaml', '.rhema/rhema.yaml']
    const rng = mulberry32(7)
    for (const f of files) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8')
      const lines = text.split('\n')
      for (let k = 0; k < 60; k++) {
        const i = Math.floor(rng() * lines.length)
        const edited = [...lines]
        const op = rng()
        if (op < 0.4 && /\S/.test(edited[i]!)) edited[i] = edited[i]! + ' x'
        else if (op < 0.7) edited.splice(i, 1)
        else edited.splice(i, 0, edited[i] ?? '')
        const after = edited.join('\n')
        let valid = true
        try {
          parseYaml(after)
        } catch {
          valid = false
        }
        if (!valid) {
          // An invalid edit is never accepted on its own: either declined, or its run failed to parse.
          expect(incrementalParse(text, parseYaml(text), after)).toBeNull()
          continue
        }
        check(text, after)
      }
    }
  })

  test('declines what it cannot judge alone', () => {
    const base = 'a: 1\nlist:\n  - id: x\n    v: 1\n  - id: y\n    v: 2\n'
    const ir = parseYaml(base)
    // a document marker typed inside an entry
    expect(incrementalParse(base, ir, base.replace('    v: 2\n', '    v: 2\n---\n'))).toBeNull()
    // the final newline removed
    expect(incrementalParse(base, ir, base.slice(0, -1))).toBeNull()
    // a key that now exists twice
    const dupe = 'a: 1\nb: 2\nc: 3\n'
    expect(incrementalParse(dupe, parseYaml(dupe), 'a: 1\na: 2\nc: 3\n')).toBeNull()
    // a file with aliases
    const alias = 'd: &d 1\ne: *d\nf: 2\n'
    expect(incrementalParse(alias, parseYaml(alias), alias.replace('f: 2', 'f: 3'))).toBeNull()
  })
})

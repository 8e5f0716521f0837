/**
 * A value changed from any kind to any other is kept byte for byte, on the writer and on a peer that
 * receives it (issue 13 item 1: turning a one-line note into a block scalar lost the lines just typed).
 *
 * Every pair of value forms below, at three places in a Rhema-style file (a top-level key, a field of a
 * list item, the last field of the last item, with and without a final newline): 14 × 14 × 4 edits.
 */
import { describe, expect, it } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { author, send } from './helpers.js'

/** A value as it follows `key:` at indentation `ind` (the key's column). */
const FORMS: Record<string, (ind: string) => string> = {
  empty: () => '',
  plain: () => ' one line',
  quoted: () => ' "one line"',
  single: () => " 'it''s one line'",
  literal: (ind) => ` |\n${ind}  first line\n${ind}  second line`,
  folded: (ind) => ` >\n${ind}  folded first\n${ind}  folded second`,
  'literal-strip': (ind) => ` |-\n${ind}  kept\n${ind}    indented more`,
  'folded-strip': (ind) => ` >-\n${ind}  a\n\n${ind}  b`,
  'literal-keep': (ind) => ` |+\n${ind}  keep trailing\n`,
  'literal-indicator': (ind) => ` |2\n${ind}    two extra\n${ind}  base`,
  'flow-seq': () => ' [a, b, "c d"]',
  'block-seq': (ind) => `\n${ind}  - a\n${ind}  - b`,
  mapping: (ind) => `\n${ind}  x: 1\n${ind}  y: two # why`,
  'plain-multiline': (ind) => `\n${ind}  plain continued\n${ind}  over lines`,
}

/** Files with the value under `notes` at some place; `v(ind)` writes the value. */
const PLACES: Record<string, (v: (ind: string) => string) => string> = {
  'top-level': (v) => `# Team notes\nnotes:${v('')}\ntodos:\n  - id: T-1\n    title: first\n`,
  'item field': (v) => `todos:\n  - id: T-1\n    notes:${v('    ')}\n    title: after\n  - id: T-2\n    title: two\n`,
  'last field': (v) => `todos:\n  - id: T-1\n    title: one\n  - id: T-2\n    notes:${v('    ')}\n`,
  'last, no final newline': (v) => `todos:\n  - id: T-1\n    notes:${v('    ')}`,
}

describe('any value kind to any other, kept byte for byte', () => {
  for (const [place, file] of Object.entries(PLACES)) {
    it(place, () => {
      const failures: string[] = []
      for (const [from, fv] of Object.entries(FORMS)) {
        for (const [to, tv] of Object.entries(FORMS)) {
          if (from === to) continue
          const base = file(fv)
          const next = file(tv)
          const a = new FileModel({ name: 'notes.yaml', author: author('a') })
          const b = new FileModel({ name: 'notes.yaml', author: author('b') })
          if (a.enroll(base).text !== base) continue // a form this place cannot hold as a file (e.g. a keep chomp at EOF)
          send(a, b)
          const got = a.ingest(next).text
          send(a, b)
          const there = b.render().text
          if (got !== next || there !== next) failures.push(`${from} → ${to}: writer ${JSON.stringify(got)}, peer ${JSON.stringify(there)}, want ${JSON.stringify(next)}`)
        }
      }
      expect(failures).toEqual([])
    })
  }
})

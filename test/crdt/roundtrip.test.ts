/**
 * Every YAML file under fixtures/ (real Rhema files, real-world YAML, odd syntax) renders byte-identically
 * from its CRDT state, and a single-field change elsewhere leaves every other line identical — on the peer
 * that made it and on a peer that received it.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { parseYaml, RefusedFileError, YamlSyntaxError } from '../../src/crdt/parse.js'
import { renderDoc } from '../../src/crdt/render.js'
import type { Node } from '../../src/crdt/ir.js'
import { childrenOf } from '../../src/crdt/ir.js'
import { author, send } from './helpers.js'

const root = path.resolve(__dirname, '../../fixtures')
const walk = (d: string): string[] =>
  fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]))
const files = walk(root).filter((f) => /\.ya?ml$/.test(f))
const EXPECTED_HELD = new Set(['syntax/broken.yaml'])
const EXPECTED_REFUSED = new Set(['syntax/multi-doc.yaml'])

/** The raw text of some plain scalar value deep in the file, to edit. */
function someScalar(n: Node | null, depth = 0): string | null {
  if (!n) return null
  const kids = childrenOf(n) ?? []
  for (const c of kids) {
    if (c.value.t === 'scalar' && /^[A-Za-z][\w .-]*$/.test(c.value.raw) && depth > 0) return c.value.raw
    const deeper = someScalar(c.value, depth + 1)
    if (deeper) return deeper
  }
  return null
}

describe('round trip of fixtures', () => {
  test('fixtures exist', () => expect(files.length).toBeGreaterThan(20))

  for (const f of files) {
    const rel = path.relative(root, f)
    test(rel, () => {
      const text = fs.readFileSync(f, 'utf8')
      if (EXPECTED_HELD.has(rel)) return void expect(() => parseYaml(text)).toThrow(YamlSyntaxError)
      if (EXPECTED_REFUSED.has(rel)) return void expect(() => parseYaml(text)).toThrow(RefusedFileError)
      expect(renderDoc(parseYaml(text))).toBe(text)

      const a = new FileModel({ name: rel, author: author('a') })
      a.enroll(text)
      expect(a.render().text ?? '').toBe(text)

      const raw = someScalar(parseYaml(text).root)
      if (!raw) return
      const lines = text.split('\n')
      const i = lines.findIndex((l) => new RegExp(`:\\s+${raw.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*(#.*)?$`).test(l))
      if (i < 0) return
      const edited = [...lines]
      edited[i] = edited[i]!.replace(raw, raw + 'X')
      const next = edited.join('\n')
      const b = new FileModel({ name: rel, author: author('b') })
      b.enroll(text)
      expect(a.ingest(next).text).toBe(next)
      send(a, b)
      const got = b.render().text!
      expect(got).toBe(next)
      const changed = got.split('\n').filter((l, k) => l !== lines[k])
      expect(changed).toEqual([edited[i]])
    })
  }
})

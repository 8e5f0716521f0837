/**
 * Odd and hostile YAML at the parser and model level (the CLI view is test/e2e/odd-yaml.test.ts): every
 * case is refused with a 1-based line:col and a plain reason, or modelled exactly as written. Nothing may
 * blow the stack (deep nesting is refused before any recursive walk) or expand an alias (a billion-laughs
 * file stays its few hundred bytes in the model, on the wire and in the rendering).
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { parseYaml, YamlSyntaxError } from '../../src/crdt/parse.js'
import { peer, sync, text } from './helpers.js'

function aliasBomb(levels: number): string {
  const lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
  for (let i = 1; i < levels; i++) lines.push(`l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]`)
  return `${lines.join('\n')}\n`
}

function syntaxError(src: string): { at: string; reason: string } {
  try {
    parseYaml(src)
  } catch (e) {
    if (e instanceof YamlSyntaxError) return { at: `${e.line}:${e.col}`, reason: e.reason }
    throw e
  }
  throw new Error('parsed')
}

describe('odd and hostile YAML', () => {
  it.each([
    ['an unclosed quote', 'todos:\n  - id: t1\n    title: "open\n', '4:1', /closing "quote/],
    ['a duplicate key', 'a: 1\nb: 2\na: 3\n', '3:1', /unique/],
    ['tabs as indentation', 'todos:\n\t- id: t1\n', '2:1', /[Tt]abs/],
    ['10 000 levels of [', `x: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, '1:260', /nesting deeper than 256/],
    ['100 000 unclosed [', '['.repeat(100_000), '1:258', /nesting deeper than 256/],
    ['2 000 levels of block maps', `${Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1\n`, '257:257', /nesting deeper/],
    ['a NUL byte', 'a: 1\nb: "x\u0000y"\n', '2:6', /NUL/],
    ['more than the size limit', `a: "${'x'.repeat(17 * 1024 * 1024)}"\n`, '1:1', /larger than/],
  ])('%s is refused at line:col with a reason', (_name, src, at, reason) => {
    const e = syntaxError(src)
    expect(e.at).toBe(at)
    expect(e.reason).toMatch(reason)
  })

  it('an alias bomb is modelled as written, never expanded, and syncs byte for byte', () => {
    const bomb = aliasBomb(12) // 9^12 ≈ 2.8e11 leaves if anything expanded it
    expect(parseYaml(bomb).aliases).toBe(true)
    const a = peer('a', bomb, '.rhema/bomb.yaml')
    const b = peer('b', 'l0: 1\n', '.rhema/bomb.yaml')
    expect(text(a)).toBe(bomb)
    expect(Y.encodeStateAsUpdate(a.doc).length).toBeLessThan(20 * bomb.length)
    sync(a, b)
    expect(text(b)).toBe(text(a))
    expect(text(b)!.length).toBeLessThan(2 * bomb.length)
  })

  it.each([
    ['a byte-order mark', '\uFEFFtodos:\n  - id: t1\n    title: x\n'],
    ['CRLF line ends', 'todos:\r\n  - id: t1\r\n    title: x\r\n'],
    ['tabs inside values', 'todos:\n  - id: t1\n    title: "a\tb"\n    note: c\td\n'],
  ])('%s round-trips exactly and survives an edit from a peer', (_name, src) => {
    const a = peer('a', src)
    const b = peer('b', src)
    expect(text(a)).toBe(src)
    const edited = src.replace(/id: t1(\r?\n)/, 'id: t1$1    status: done$1')
    a.ingest(edited)
    sync(a, b)
    expect(text(b)).toBe(text(a))
    expect(text(b)).toContain('status: done')
  })
})

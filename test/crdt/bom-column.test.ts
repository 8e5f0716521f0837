/**
 * A BOM right before the first key is no column (issue 13: the diff helper's request, stop 31). It was counted
 * as one: the root mapping read at indent 1, so once a line landed before that key (a peer's `---` or comment,
 * a stale save's head line) the root keys were written one space in — bytes no side wrote.
 */
import { expect, test } from 'vitest'
import { parseYaml } from '../../src/crdt/parse.js'
import { renderDoc } from '../../src/crdt/render.js'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'

const BOM = '\uFEFF'
const V0 = 'todos:\n  - id: T-1\n    title: Set up CI\n  - id: T-2\n    title: Write docs\n'

test('a BOM before the first key: the root mapping at column 0, its lines as without the BOM', () => {
  const ir = parseYaml(BOM + 'scope:\n  name: "x"\n')
  const plain = parseYaml('scope:\n  name: "x"\n')
  expect(ir.head).toBe(BOM)
  const shape = (x: unknown) => JSON.stringify(x, (k, v) => (k === 'span' ? undefined : v))
  expect(shape(ir.root)).toBe(shape(plain.root))
  expect(renderDoc(ir)).toBe(BOM + 'scope:\n  name: "x"\n')
  for (const t of [BOM + 'a: 1\n', BOM + 'a:\n- x\n', BOM + '# c\nx: 1\n', BOM + '---\nx: 1\n', BOM + '&a\nx: 1\n', BOM, BOM + '\n', BOM + 'x\n'])
    expect(renderDoc(parseYaml(t)), JSON.stringify(t)).toBe(t)
})

// The yaml package's lexer fails on a BOM right before a root block sequence (yaml 2.9); the file was held as invalid.
test('a BOM before a root sequence parses, and a peer’s edit of it syncs byte for byte', () => {
  for (const t of [BOM + '- a\n- b\n', BOM + '- id: T-1\n  title: x\n- id: T-2\n', BOM + '- a', BOM + '  - a\n  - b\n'])
    expect(renderDoc(parseYaml(t)), JSON.stringify(t)).toBe(t)
  expect(() => parseYaml(BOM + '- a\n - b: [\n')).toThrow()
  const start = BOM + '- id: T-1\n  title: x\n- id: T-2\n  title: y\n'
  const [A, B] = newPair(start)
  const edited = start.replace('title: y', 'title: y (bob)').replace(BOM, BOM + '# list\n')
  expect(B.ingest(edited).text).toBe(edited)
  send(B, A)
  expect(A.render().text).toBe(edited)
})

test.each([
  ['a peer adds `---` after the BOM', BOM + V0, BOM + '---\n' + V0],
  ['a peer adds a head comment after the BOM', BOM + V0, BOM + '# Todos\n' + V0],
  ['a peer removes the BOM and adds `---`', BOM + V0, '---\n' + V0],
  ['a peer adds a BOM and a head comment', V0, BOM + '# Todos\n' + V0],
])('%s: both peers write the peer’s text byte for byte', (_name, start, peerText) => {
  const [A, B] = newPair(start)
  expect(B.ingest(peerText).text).toBe(peerText)
  send(B, A)
  expect(A.render().text).toBe(peerText)
})

test('a BOM added by one peer, a head line by the other’s stale buffer: both kept, the root keys at column 0', () => {
  const [A, B] = newPair(V0)
  A.ingest(BOM + V0)
  send(A, B)
  B.setBase(B.render())
  const out = B.ingest('---\n' + V0.replace('Write docs', 'Write the docs'))
  const want = BOM + '---\n' + V0.replace('Write docs', 'Write the docs')
  expect(out.text).toBe(want)
  send(B, A)
  expect(A.render().text).toBe(want)
})

test('a peer adds a BOM while a stale buffer edits a key under the first one: both kept in place', () => {
  const R = 'scope:\n  name: "x"\n  a: 1\n  b: 2\n  c: 3\nother:\n  d: 4\n'
  const [A, B] = newPair(R, [1, 2])
  B.ingest(BOM + R.replace('name: "x"', 'name: peer'))
  send(B, A)
  A.setBase(A.render())
  const out = A.ingest(R.replace('a: 1', 'a: 10'))
  expect(out.text).toBe(BOM + R.replace('name: "x"', 'name: peer').replace('a: 1', 'a: 10'))
})

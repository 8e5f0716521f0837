/**
 * Each way the randomized harness found (or its new edits could find) for a merged state to render as text
 * that does not parse, reproduced with two peers. Concurrent writes to one register are won by one Yjs
 * client, so every case runs with both peers winning: the merged file must render exactly (no canonical
 * fallback), parse, be byte-identical on both peers, and hold both sides' content.
 */
import { parse } from 'yaml'
import { describe, expect, test } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { parseYaml } from '../../src/crdt/parse.js'
import { renderDoc } from '../../src/crdt/render.js'
import { asFlowText } from '../../src/crdt/canonical.js'
import { author, send } from './helpers.js'

const DOC = '.rhema/todos.yaml'

function enrolled(name: string, text: string, clientId: number): FileModel {
  const m = new FileModel({ name: DOC, author: author(name), clientId })
  m.load([FileModel.enrollment(DOC, text)])
  m.setBase(m.render())
  return m
}

/** `todos:` with one todo; `tags` is the rest of its `tags:` line (and the lines under it). */
const todo = (tags: string, more = '') => `todos:\n  - id: a\n    tags:${tags}\n    status: todo\n${more}`
const desc = (indent: number, body: string) =>
  `todos:\n${' '.repeat(indent)}- id: a\n${' '.repeat(indent)}  description: |\n${body}`

interface Case {
  name: string
  base: string
  a: string
  b: string
  /** The merged values, whichever peer wins the registers both wrote. */
  value: unknown
  /** Text the merged file holds (or, with `!`, does not hold) in both orders. */
  text?: string[]
  ends?: string
}

const CASES: Case[] = [
  {
    name: 'block → flow tags vs a comment line above a tag (a head read as flow text ends the line)',
    base: todo('\n      - x\n      - y'),
    a: todo(' [x, y]'),
    b: todo('\n      - x\n      # why y\n      - y'),
    value: { todos: [{ id: 'a', tags: ['x', 'y'], status: 'todo' }] },
  },
  {
    name: 'block → flow tags vs a comment after a tag (a trail read as flow text ends the line)',
    base: todo('\n      - x\n      - y'),
    a: todo(' [x, y]'),
    b: todo('\n      - x  # first\n      - y  # last'),
    value: { todos: [{ id: 'a', tags: ['x', 'y'], status: 'todo' }] },
  },
  {
    name: 'flow → block tags vs a tag added in flow style (its ` ` before the value is no head)',
    base: todo(' [x, y]'),
    a: todo('\n      - x\n      - y'),
    b: todo(' [w, x, y, z]'),
    value: { todos: [{ id: 'a', tags: ['w', 'x', 'y', 'z'], status: 'todo' }] },
    text: ['!\n \n', '\n      - w\n      - x\n'],
  },
  {
    name: 'flow → block tags level with the key vs a tag added',
    base: todo(' [x]'),
    a: todo('\n    - x'),
    b: todo(' [x, y]  # two'),
    value: { todos: [{ id: 'a', tags: ['x', 'y'], status: 'todo' }] },
  },
  {
    name: 're-indent vs a blank line with stray spaces added above a description (kept verbatim)',
    base: desc(4, '        x\n'),
    a: desc(2, '      x\n'),
    b: desc(4, '       \n        x\n        y\n'),
    value: { todos: [{ id: 'a', description: '\nx\ny\n' }] },
  },
  {
    name: 're-indent vs a comment line above a new todo',
    base: todo(' [x]'),
    a: todo(' [x]').replace(/\n {2}/g, '\n    '),
    b: todo(' [x]', '  # next\n  - id: b\n'),
    value: { todos: [{ id: 'a', tags: ['x'], status: 'todo' }, { id: 'b' }] },
    text: ['# next\n    - id: b\n'],
  },
  {
    name: 'no final newline after a description vs a line added to it',
    base: desc(2, '      x\n'),
    a: desc(2, '      x'),
    b: desc(2, '      x\n      y\n'),
    value: { todos: [{ id: 'a', description: 'x\ny\n' }] },
    ends: '      x\n      y',
  },
  {
    name: 'no final newline vs a todo appended after the last line',
    base: todo(' [x]'),
    a: todo(' [x]').slice(0, -1),
    b: todo(' [x]', '  - id: b\n'),
    value: { todos: [{ id: 'a', tags: ['x'], status: 'todo' }, { id: 'b' }] },
  },
  {
    name: 'emptied value (`status:`) vs a comment added on its line',
    base: todo(' [x]'),
    a: todo(' [x]').replace('status: todo', 'status:'),
    b: todo(' [x]').replace('status: todo', 'status: todo  # soon'),
    value: { todos: [{ id: 'a', tags: ['x'], status: null }] },
    text: ['status:  # soon\n'],
  },
  // Stale-save generator (diff helper, stop 31): the tab-led comment was a line at column 0 after the block's
  // body (the whole file fell back to canonical text); one indented deeper than the body became its content.
  ...['\t# tabbed', '        # deep'].map((comment): Case => ({
    name: `a comment typed after a value (${JSON.stringify(comment)}) vs the value made a folded block scalar`,
    base: 'a:\n  date: 2026-11-30\n  x: 1\n',
    a: `a:\n  date: 2026-11-30${comment}\n  x: 1\n`,
    b: 'a:\n  date: >-\n    2026-11-30\n    and a second line\n  x: 1\n',
    value: { a: { date: '2026-11-30 and a second line', x: 1 } },
  })),
]

function merge(c: Case, ids: [number, number]): { a: FileModel; b: FileModel } {
  const a = enrolled('a', c.base, ids[0])
  const b = enrolled('b', c.base, ids[1])
  expect(a.ingest(c.a).text).toBe(c.a)
  expect(b.ingest(c.b).text).toBe(c.b)
  send(a, b)
  send(b, a)
  return { a, b }
}

describe('merged states render exactly and parse', () => {
  for (const c of CASES) {
    for (const ids of [[1, 2], [2, 1]] as Array<[number, number]>) {
      test(`${c.name} (client ${ids[0]} vs ${ids[1]})`, () => {
        const before = FileModel.fallbacks
        const { a, b } = merge(c, ids)
        const exact = renderDoc(a.tree.toIR())
        expect(() => parseYaml(exact)).not.toThrow()
        expect(a.render().text).toBe(exact)
        expect(b.render().text).toBe(exact)
        expect(FileModel.fallbacks).toBe(before)
        expect(parse(exact)).toEqual(c.value)
        for (const t of c.text ?? []) {
          if (t.startsWith('!')) expect(exact).not.toContain(t.slice(1))
          else expect(exact).toContain(t)
        }
        if (c.ends) expect(exact.endsWith(c.ends)).toBe(true)
      })
    }
  }
})

describe('the missing final newline belongs to the document', () => {
  const text = desc(2, '      x\n      y')

  test('a description on the last line stays a block scalar, byte for byte', () => {
    const ir = parseYaml(text)
    expect(renderDoc(ir)).toBe(text)
    const entry = JSON.stringify(ir.root)
    expect(entry).toContain('"t":"block"')
    expect(entry).not.toContain('"t":"opaque"')
  })

  test('deleting it does not bring back a todo another peer deleted', () => {
    const base = desc(2, '      x\n').replace('todos:\n', 'todos:\n  - id: z\n')
    for (const ids of [[1, 2], [2, 1]] as Array<[number, number]>) {
      const a = enrolled('a', base, ids[0])
      const b = enrolled('b', base, ids[1])
      a.ingest(base.slice(0, -1))
      b.ingest('todos:\n  - id: z\n')
      send(a, b)
      send(b, a)
      expect(a.render().text).toBe('todos:\n  - id: z')
      expect(b.render().text).toBe(a.render().text)
    }
  })
})

describe('an update applied before one it depends on', () => {
  test('renders a transient state that is neither written nor counted as a fallback', () => {
    // `steps` is a sequence (tags are a set, whose elements are replaced, not rewritten in place).
    const steps = (v: string, more = '') => todo(v, more).replace('tags:', 'steps:')
    const base = steps(' [x, y]')
    const a = enrolled('a', base, 1)
    const c = enrolled('c', base, 3)
    const updates: Uint8Array[] = []
    a.doc.on('update', (u: Uint8Array) => updates.push(u))
    a.ingest(steps(' [x, y]', '  - id: b\n'))
    // Replaces the value register of step `x`: the new value depends on the first update.
    const final = steps(' [w, y]', '  - id: b\n')
    a.ingest(final)
    expect(updates.length).toBe(2)
    const fallbacks = FileModel.fallbacks
    const transients = FileModel.transientFallbacks
    c.applyRemote(updates[1]!, 'a')
    // The old value of `x` is already deleted, the new one waits: `steps: [, y]`.
    expect(() => parseYaml(renderDoc(c.tree.toIR()))).toThrow()
    const transient = c.render()
    expect(transient.complete).toBe(false)
    expect(FileModel.transientFallbacks).toBe(transients + 1)
    c.applyRemote(updates[0]!, 'a')
    const done = c.render()
    expect(done.complete).toBe(true)
    expect(done.text).toBe(final)
    expect(FileModel.fallbacks).toBe(fallbacks)
  })
})

// A peer's `|+` value kept inside the `{}` a stale save wrote (edit generator seed 777): folded over lines, the
// string's continuation started at column 0 inside the block mapping, and the file fell back to canonical text.
test('a multi-line value a merge placed inside a flow collection is one escaped line', () => {
  const flow = asFlowText({ t: 'block', header: '|+\n', indent: 2, lines: [{ text: 'user-management-service' }, { text: 'and a second line' }] })
  expect(flow).toBe('"user-management-service\\nand a second line\\n"')
  expect(parse(`a:\n  scope: {name: ${flow}}\n`)).toEqual({ a: { scope: { name: 'user-management-service\nand a second line\n' } } })
})

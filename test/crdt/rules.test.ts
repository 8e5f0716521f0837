/**
 * Table tests for each merge rule, including the git-style scenarios that plain git turns into conflict
 * markers: both sides add todos, one edits a todo the other deletes, both edit the same status, both append
 * to a description, both tag. Each case runs in both delivery orders and checks identical files.
 */
import { describe, expect, test } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { ITEM, compileRules, type RuleSpec } from '../../src/crdt/rules.js'
import { author, send } from './helpers.js'

function pair(text: string, rules: RuleSpec[] = [], file = '.rhema/todos.yaml'): [FileModel, FileModel] {
  const mk = (n: string, c: number) => {
    const m = new FileModel({ name: file, author: author(n), rules: compileRules(file, rules), clientId: c })
    m.enroll(text)
    return m
  }
  return [mk('a', 100), mk('b', 200)]
}

/** A and B edit concurrently, then exchange in the given order; returns the converged text. */
function merge(base: string, a: string | ((t: string) => string)[], b: string | ((t: string) => string)[], rules: RuleSpec[] = [], first: 'a' | 'b' = 'a') {
  const [pa, pb] = pair(base, rules)
  const apply = (m: FileModel, edits: string | ((t: string) => string)[]) => {
    if (typeof edits === 'string') m.ingest(edits)
    else for (const e of edits) m.ingest(e(m.render().text!))
  }
  apply(pa, a)
  apply(pb, b)
  if (first === 'a') {
    send(pa, pb)
    send(pb, pa)
  } else {
    send(pb, pa)
    send(pa, pb)
  }
  const ta = pa.render().text
  const tb = pb.render().text
  expect(ta).toBe(tb)
  return { text: ta!, a: pa, b: pb }
}

const TODOS = `todos:
  - id: t1
    title: First
    status: todo
    tags: [core]
    description: |
      line one
      line two
  - id: t2
    title: Second
    status: todo
    count: 5
`

const both = (f: (first: 'a' | 'b') => void) => {
  test('a first', () => f('a'))
  test('b first', () => f('b'))
}

describe('mapping: key by key', () => {
  both((first) => {
    const r = merge(TODOS, TODOS.replace('title: First', 'title: One'), TODOS.replace('status: todo\n    tags', 'status: done\n    tags'), [], first)
    expect(r.text).toContain('title: One')
    expect(r.text).toContain('status: done\n    tags')
    expect(r.a.conflicts()).toEqual([])
  })
})

describe('scalar register: both edit the same status', () => {
  both((first) => {
    const r = merge(TODOS, TODOS.replace('status: todo\n    tags', 'status: review\n    tags'), TODOS.replace('status: todo\n    tags', 'status: done\n    tags'), [], first)
    const cs = r.a.conflicts()
    expect(cs).toHaveLength(1)
    expect(r.b.conflicts()).toEqual(cs)
    const c = cs[0]!
    expect(c.display).toBe('todos[id=t1].status')
    expect(c.values.map((v) => v.value).sort()).toEqual(['done', 'review'])
    expect(c.values.map((v) => v.author.name).sort()).toEqual(['a', 'b'])
    for (const v of c.values) expect(v.at).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(r.text).toContain(`status: ${c.values[c.winner - 1]!.value}\n    tags`)
  })
})

describe('delete versus edit: the edit is kept, with a conflict resolve can turn into the delete', () => {
  both((first) => {
    const withoutT2 = TODOS.slice(0, TODOS.indexOf('  - id: t2'))
    const r = merge(TODOS, withoutT2, TODOS.replace('title: Second', 'title: Second, edited'), [], first)
    expect(r.text).toContain('Second, edited')
    const [c] = r.a.conflicts()
    expect(c!.kind).toBe('delete')
    r.a.resolve(c!.id, 1)
    send(r.a, r.b)
    expect(r.b.render().text).toBe(withoutT2)
    expect(r.b.conflicts()).toEqual([])
  })
  describe('a deleted todo edited differently by two others: revived, and the field race is a conflict', () => {
    both((first) => {
      const [a, b] = pair(TODOS)
      const c = new FileModel({ name: '.rhema/todos.yaml', author: author('c'), clientId: 300 })
      c.enroll(TODOS)
      a.ingest(TODOS.slice(0, TODOS.indexOf('  - id: t2')))
      b.ingest(TODOS.replace('title: Second', 'title: Zweite'))
      c.ingest(TODOS.replace('title: Second', 'title: Deuxième'))
      const order: Array<[FileModel, FileModel]> = first === 'a' ? [[a, b], [a, c], [b, a], [b, c], [c, a], [c, b]] : [[c, b], [c, a], [b, c], [b, a], [a, c], [a, b]]
      for (const [x, y] of order) send(x, y)
      expect(a.render().text).toBe(b.render().text)
      expect(a.render().text).toBe(c.render().text)
      const cs = a.conflicts()
      expect(cs.map((x) => [x.display, x.kind])).toEqual(
        expect.arrayContaining([
          ['todos[id=t2]', 'delete'],
          ['todos[id=t2].title', 'value'],
        ]),
      )
      expect(b.conflicts()).toEqual(cs)
    })
  })
  describe('a todo deleted and re-added on one side while the other edits it: the race is a conflict', () => {
    both((first) => {
      const t2 = TODOS.slice(TODOS.indexOf('  - id: t2'))
      const without = TODOS.slice(0, TODOS.indexOf('  - id: t2'))
      const r = merge(TODOS, [() => without, () => without + t2], TODOS.replace('title: Second', 'title: Renamed'), [], first)
      expect(r.text.match(/id: t2/g)).toHaveLength(1)
      const cs = r.a.conflicts()
      expect(cs.map((x) => x.display)).toContain('todos[id=t2].title')
      expect(cs.find((x) => x.display === 'todos[id=t2].title')!.values.map((v) => v.value).sort()).toEqual(['Renamed', 'Second'])
    })
  })
  test('a field removed on one side, edited on the other', () => {
    const r = merge(TODOS, TODOS.replace('    count: 5\n', ''), TODOS.replace('count: 5', 'count: 6'), [{ path: 'todos.*.count', merge: 'register' }])
    expect(r.text).toContain('count: 6')
    expect(r.a.conflicts().map((c) => c.kind)).toEqual(['delete'])
  })
})

describe('lists of mappings merge by identity', () => {
  both((first) => {
    const r = merge(TODOS, TODOS + '  - id: t3\n    title: from a\n', TODOS + '  - id: t4\n    title: from b\n', [], first)
    expect(r.text).toContain('id: t3')
    expect(r.text).toContain('id: t4')
  })
  test('reorder on one side, edit on the other', () => {
    const t2 = TODOS.slice(TODOS.indexOf('  - id: t2'))
    const t1 = TODOS.slice('todos:\n'.length, TODOS.indexOf('  - id: t2'))
    const r = merge(TODOS, 'todos:\n' + t2 + t1, TODOS.replace('title: First', 'title: First!'))
    expect(r.text.indexOf('id: t2')).toBeLessThan(r.text.indexOf('id: t1'))
    expect(r.text).toContain('title: First!')
  })
  test('the same new id added on both sides: one item, fields merged', () => {
    const r = merge(TODOS, TODOS + '  - id: t9\n    title: nine\n', TODOS + '  - id: t9\n    status: new\n')
    expect(r.text.match(/id: t9/g)).toHaveLength(1)
    expect(r.text).toContain('title: nine')
    expect(r.text).toContain('status: new')
  })
  describe('the same new id added on both sides with different values: one value wins, with a conflict', () => {
    both((first) => {
      const r = merge(TODOS, TODOS + '  - id: t9\n    title: nine\n', TODOS + '  - id: t9\n    title: neun\n', [], first)
      expect(r.text.match(/id: t9/g)).toHaveLength(1)
      const cs = r.a.conflicts()
      expect(cs.map((c) => c.display)).toEqual(['todos[id=t9].title'])
      expect(r.b.conflicts()).toEqual(cs)
      expect(cs[0]!.values.map((v) => v.value).sort()).toEqual(['neun', 'nine'])
      // Resolving to the loser writes it on both peers and clears the conflict.
      const loser = cs[0]!.values.findIndex((_, i) => i !== cs[0]!.winner - 1) + 1
      r.a.resolve(cs[0]!.id, loser)
      send(r.a, r.b)
      expect(r.b.render().text).toContain(`title: ${cs[0]!.values[loser - 1]!.value}`)
      expect(r.b.conflicts()).toEqual([])
    })
  })
  test('a todo a peer added, not yet written to this file, added here too: one item, not two', () => {
    const [a, b] = pair(TODOS)
    a.ingest(TODOS + '  - id: t9\n    title: nine\n')
    send(a, b)
    // B's file is still the old one (say it was being edited): its user adds t9 as well.
    b.ingest(TODOS + '  - id: t9\n    title: nine\n    status: todo\n')
    send(b, a)
    expect(a.render().text).toBe(b.render().text)
    expect(b.render().text!.match(/id: t9/g)).toHaveLength(1)
    expect(b.render().text).toContain('    title: nine\n    status: todo\n')
  })
  test('a todo duplicated inside one file stays two items', () => {
    const [a] = pair(TODOS)
    const dup = TODOS + '  - id: t2\n    title: Second copy\n'
    a.ingest(dup)
    expect(a.render().text).toBe(dup)
  })
  test('a rule may name another identity key', () => {
    const base = 'patterns:\n  - name: retry\n    use: always\n'
    const r = merge(base, base + '  - name: cache\n', base.replace('use: always', 'use: sometimes'), [{ path: 'patterns', identity: 'name' }])
    expect(r.text).toBe('patterns:\n  - name: retry\n    use: sometimes\n  - name: cache\n')
  })
})

describe('lists of scalars', () => {
  test('a sequence keeps concurrent insertions, in one order on both sides', () => {
    const base = 'steps: [a, b]\n'
    const r1 = merge(base, 'steps: [a, x, b]\n', 'steps: [a, y, b]\n', [], 'a')
    const r2 = merge(base, 'steps: [a, x, b]\n', 'steps: [a, y, b]\n', [], 'b')
    expect(r1.text).toBe(r2.text)
    expect(r1.text).toMatch(/^steps: \[a, [xy], [xy], b\]\n$/)
  })
  test('a set: both tag, no duplicates', () => {
    const r = merge(TODOS, TODOS.replace('[core]', '[core, ui]'), TODOS.replace('[core]', '[core, ui, net]'))
    expect(r.text).toContain('tags: [core, ui, net]')
  })
  test('a set is add-wins: an element removed on one side and re-added on the other stays', () => {
    const r = merge(TODOS, TODOS.replace('[core]', '[]'), [(t) => t.replace('[core]', '[]'), (t) => t.replace('[]', '[core]')])
    expect(r.text).toContain('tags: [core]')
    expect(r.a.conflicts()).toEqual([])
  })
  test('a repeated element is kept exactly, and adding the same one on both sides adds it once', () => {
    const withRepeat = TODOS.replace('[core]', '[core, ui, core]')
    const [a] = pair(withRepeat)
    expect(a.render().text).toBe(withRepeat)
    const r = merge(TODOS, TODOS.replace('[core]', '[core, ui]'), TODOS.replace('[core]', '[core, ui]'))
    expect(r.text).toContain('tags: [core, ui]\n')
  })
})

describe('block scalars merge line by line', () => {
  both((first) => {
    const r = merge(TODOS, TODOS.replace('line two\n', 'line two\n      from a\n'), TODOS.replace('line one\n', 'line one\n      from b\n'), [], first)
    expect(r.text).toContain('from a')
    expect(r.text).toContain('from b')
  })
})

describe('counter: concurrent increments add up', () => {
  both((first) => {
    const rules: RuleSpec[] = [{ path: 'todos.*.count', merge: 'counter' }]
    const r = merge(TODOS, TODOS.replace('count: 5', 'count: 7'), TODOS.replace('count: 5', 'count: 8'), rules, first)
    expect(r.text).toContain('count: 10')
    expect(r.a.conflicts()).toEqual([])
  })
})

describe('constructs that cannot merge are kept exactly', () => {
  test('anchors and aliases round-trip and sync as one value', () => {
    const base = 'defaults: &d\n  a: 1\nuse:\n  <<: *d\n  b: 2\n'
    const r = merge(base, base.replace('b: 2', 'b: 3'), base)
    expect(r.text).toBe(base.replace('b: 2', 'b: 3'))
  })
})

describe('built-in file globs', () => {
  test('apply exactly where picomatch says they match', async () => {
    const { default: picomatch } = await import('picomatch')
    const pm = (p: string, glob: string) => picomatch.isMatch(p, glob, { dot: true })
    const paths = ['todos.yaml', '.rhema/todos.yml', 'a/b/.rhema/todos.yaml', 'todos.yaml.bak', 'my-todos.yaml', '.rhema/todos.json',
      'patterns.yml', 'x/scope.yml', 'rhema.yaml', 'x/rhema.yaml/y', '', 'todos', '.todos.yaml', 'decisions.YAML', 'a/decisions.yaml']
    for (const p of paths) {
      const r = compileRules(p)
      expect(r.at(['todos', ITEM, 'blocked_by']).merge, p).toBe(pm(p, '**/todos.{yaml,yml}') ? 'set' : undefined)
      expect(r.at(['decisions', ITEM, 'alternatives']).identity, p).toEqual(pm(p, '**/decisions.{yaml,yml}') ? ['name', 'id'] : ['id'])
      expect(r.at(['patterns']).identity, p).toEqual(pm(p, '**/patterns.{yaml,yml}') ? ['id', 'name'] : ['id'])
      expect(r.at(['x', 'scopes']).identity, p).toEqual(pm(p, '**/{rhema,scope}.{yaml,yml}') ? ['path', 'name', 'id'] : ['id'])
    }
    // Key alternatives, and a user glob the fast path does not take (picomatch then decides).
    const u = compileRules('ctx/notes.md.yaml', [{ path: '{a,b}.list', merge: 'set' }, { files: 'ctx/*.md.yaml', path: 'n', merge: 'counter' }])
    expect([u.at(['a', 'list']).merge, u.at(['b', 'list']).merge, u.at(['c', 'list']).merge]).toEqual(['set', 'set', undefined])
    expect(u.at(['n']).merge).toBe('counter')
  })
})

/**
 * The merge engine behind the git merge driver: `merge3` (the whole file through the CRDT) and
 * `mergeByRegions` (only the items both sides changed through the CRDT). Both must keep every change that
 * does not collide, give one deterministic result whichever side is "ours", and agree with each other.
 * Seeded; the seed is printed on failure.
 */
import { describe, expect, it } from 'vitest'
import { compileRules } from '../../src/crdt/rules.js'
import { parseYaml } from '../../src/crdt/parse.js'
import { merge3 } from '../../src/crdt/merge/merge3.js'
import { mergeByRegions } from '../../src/crdt/merge/regionmerge.js'
import { mulberry32 } from '../helpers/random.js'

const NAME = '.rhema/todos.yaml'
const opts = { name: NAME, rules: compileRules(NAME) }

function full(base: string, a: string, b: string): { text: string; conflicts: number } {
  const r = merge3(base, a, b, opts)
  r.model.destroy()
  return { text: r.text!, conflicts: r.conflicts.length }
}

async function regions(base: string, a: string, b: string): Promise<{ text: string; conflicts: number } | null> {
  const r = await mergeByRegions(base, a, b, () => opts)
  if (!r) return null
  for (const x of r.regions) x.model.destroy()
  return { text: r.text, conflicts: r.conflicts.length }
}

interface Todo { id: string; status: string; tags: string[]; lines: string[] }
const render = (ts: Todo[], header = '# todos\n') =>
  header + 'todos:\n' + ts.map((t) => `  - id: ${t.id}\n    status: ${t.status}\n    tags: [${t.tags.join(', ')}]\n    description: |\n${t.lines.map((l) => `      ${l}\n`).join('')}`).join('') + 'meta:\n  owner: team\n'

function edit(r: () => number, ts: Todo[], who: string, seed: number): { todos: Todo[]; marks: string[] } {
  const out = ts.map((t) => ({ ...t, tags: [...t.tags], lines: [...t.lines] }))
  const marks: string[] = []
  const n = 1 + Math.floor(r() * 3)
  for (let k = 0; k < n; k++) {
    const t = out[Math.floor(r() * out.length)]!
    const x = r()
    if (x < 0.3) t.status = `${who}-${seed}-${k}`
    else if (x < 0.55) t.tags.push(`${who}${k}`)
    else if (x < 0.8) {
      const line = `${who} line ${seed}.${k}`
      t.lines.splice(Math.floor(r() * (t.lines.length + 1)), 0, line)
      marks.push(line)
    } else if (x < 0.9 && out.length > 1) {
      // A todo deleted: where the other side edited it, the edit must stay (its marks are counted below);
      // what this side itself put into it goes with it.
      const [gone] = out.splice(Math.floor(r() * out.length), 1)
      for (const m of [...gone!.lines, `- id: ${gone!.id}`]) if (marks.includes(m)) marks.splice(marks.indexOf(m), 1)
    } else {
      const id = `${who}${seed}x${k}`
      out.splice(Math.floor(r() * (out.length + 1)), 0, { id, status: 'open', tags: [], lines: ['new'] })
      marks.push(`- id: ${id}`)
    }
  }
  return { todos: out, marks }
}

/**
 * One seed of the randomized merge: throws on a broken rule. taken: the region merge followed the change;
 * ordered: its lines are the whole merge's, in another order.
 */
async function runSeed(seed: number): Promise<{ taken: boolean; ordered: boolean }> {
  const r = mulberry32(seed)
  const todos0: Todo[] = Array.from({ length: 3 + Math.floor(r() * 8) }, (_, i) => ({ id: `t${i}`, status: 'open', tags: ['x'], lines: ['one', 'two'] }))
  const base = render(todos0)
  // Half the runs: a change both sides made (a change made live, then committed on one clone and
  // still in the other's working files): its marks must show once.
  const rs = mulberry32(seed + 1_000_003)
  const shared = rs() < 0.5 ? edit(rs, todos0, 's', seed) : { todos: todos0, marks: [] }
  const todos = shared.todos
  const ea = edit(r, todos, 'a', seed)
  const eb = edit(r, todos, 'b', seed)
  const [a, b] = [render(ea.todos), render(eb.todos)]
  const ab = await regions(base, a, b)
  const ba = await regions(base, b, a)
  const whole = full(base, a, b)
  const got = ab ?? whole
  expect(() => parseYaml(got.text)).not.toThrow()
  for (const m of [...ea.marks, ...eb.marks]) expect(got.text.split('\n').filter((l) => l.trim() === m).length, `"${m}" in\n${got.text}`).toBe(1)
  // A shared mark one side deleted since (with its todo) may be gone; never twice.
  const holds = (t: string, m: string) => t.split('\n').some((l) => l.trim() === m)
  for (const m of shared.marks) {
    const n = got.text.split('\n').filter((l) => l.trim() === m).length
    expect(n, `shared "${m}" in\n${got.text}`).toBe(holds(a, m) && holds(b, m) ? 1 : Math.min(n, 1))
  }
  if (ab && ba) expect(ab.text).toBe(ba.text)
  if (ab) {
    // The same lines as the whole merge, in the same order (ORDER_SEEDS: none left).
    const sorted = (t: string) => t.split('\n').sort().join('\n')
    expect(sorted(ab.text)).toBe(sorted(whole.text))
  }
  expect(got.conflicts).toBe(whole.conflicts)
  return { taken: ab !== null, ordered: ab !== null && ab.text !== whole.text }
}

/**
 * The seeds run: CI's first 150 and the regressions beyond them. CTXSYNC_MERGE_SEEDS / CTXSYNC_MERGE_BASE run
 * another range (locally: CTXSYNC_MERGE_SEEDS=3000); every failing seed is listed, not only the first.
 */
const SEEDS = Number(process.env.CTXSYNC_MERGE_SEEDS ?? 150)
const BASE = Number(process.env.CTXSYNC_MERGE_BASE ?? 1)
/**
 * Seeds past 150 that failed. The common base (crdt/merge/common.ts) was built from bare lines: diffs aligned
 * one todo's lines with another's, so a change both sides made went into the wrong todo or beside the line it
 * replaced and came out twice (248, 429, 880, 1214), a shared new todo beside a side's own came out twice or
 * its lines apart (480, 1216), and the region merge's sub-documents then disagreed with the whole merge
 * (624, 1063, 1090, 1202; 1391 in order). The region merge cut the file by a diff of bare lines too: it aligned
 * one todo's lines with another's (2980: t1, which both deleted, with t2), so a sub-document merged a todo as
 * new on both sides: a conflict the whole merge has not (2980, 1920), other lines (2131), a shared line twice (1662).
 * A line appended to t2's notes by the side that deleted t3 went into t3's region alone and ended up in the
 * other side's new todo after t2 (1998; the sorted lines agree, so it showed as order). Lines both sides
 * appended at one place were ordered by each side's count of new ids, which the region merge started at its
 * region and the whole merge at the file's start (1859, 2860, 4629: order only; ties.ts).
 */
const REGRESSION_SEEDS: number[] = [248, 429, 480, 624, 880, 1063, 1090, 1202, 1214, 1216, 1391, 1662, 1859, 1920, 1998, 2131, 2860, 2980, 4629]

/**
 * Seeds whose region merge orders lines unlike the whole merge. Seed 90 did (one side deleted t0 and t1 and
 * put a new todo first, the other edited t0, which stays): the region's sub-document had no item after the
 * new one, which went first; the unit after a region is now merged with it as context (regionmerge.ts).
 */
const ORDER_SEEDS: number[] = []

describe('merge engine', () => {
  it('merge3 is symmetric: merging A into B and B into A give the same bytes', () => {
    const base = render([{ id: 't1', status: 'open', tags: ['a'], lines: ['x'] }])
    const a = base.replace('status: open', 'status: done').replace('tags: [a]', 'tags: [a, b]')
    const b = base.replace('status: open', 'status: blocked').replace('      x\n', '      x\n      y\n')
    const ab = full(base, a, b)
    const ba = full(base, b, a)
    expect(ab.text).toBe(ba.text)
    expect(ab.conflicts).toBe(1)
    expect(ab.text).toContain('tags: [a, b]')
    expect(ab.text).toContain('      y\n')
  })

  it('the region merge is taken for ordinary edits and agrees with the whole-file merge', async () => {
    const todos: Todo[] = Array.from({ length: 30 }, (_, i) => ({ id: `t${i}`, status: 'open', tags: ['x'], lines: ['one', 'two'] }))
    const base = render(todos)
    const a = base.replace('id: t3\n    status: open', 'id: t3\n    status: done').replace('id: t20\n    status: open', 'id: t20\n    status: a')
    const b = base.replace('id: t3\n    status: open', 'id: t3\n    status: blocked').replace('id: t27\n    status: open', 'id: t27\n    status: b')
    const r = await regions(base, a, b)
    expect(r).not.toBeNull()
    expect(r).toEqual(full(base, a, b))
    expect(r!.conflicts).toBe(1)
  })

  it('hands back (null) what it does not follow: several documents, no final newline', async () => {
    const base = 'a: 1\n---\nb: 2\n'
    expect(await regions(base, base.replace('1', '3'), base.replace('2', '4'))).toBeNull()
    expect(await regions('a: 1', 'a: 2', 'a: 3')).toBeNull()
  })

  it('a change both sides made the same way is merged once (black-box tester: a note\'s lines tripled over two pulls)', async () => {
    const base = 'todos:\n  - id: T-1\n    title: x\n    notes: |\n      line A\n'
    const cases: [string, string, string, string][] = [
      // [base, ours, theirs, expected]
      [base, base.replace('title: x', 'title: y').replace('line A\n', 'line A\n      line C\n'), base.replace('line A\n', 'line A\n      line C\n'),
        'todos:\n  - id: T-1\n    title: y\n    notes: |\n      line A\n      line C\n'],
      ['todos:\n  - id: T-1\n    title: x\n    items: [alpha]\n', 'todos:\n  - id: T-1\n    title: y\n    items: [alpha, beta]\n', 'todos:\n  - id: T-1\n    title: x\n    items: [alpha, beta]\n',
        'todos:\n  - id: T-1\n    title: y\n    items: [alpha, beta]\n'],
      ['todos:\n  - id: T-1\n    title: x\n    notes: one\n', 'todos:\n  - id: T-1\n    title: y\n    notes: |\n      line A\n      line B\n', 'todos:\n  - id: T-1\n    title: x\n    notes: |\n      line A\n      line B\n',
        'todos:\n  - id: T-1\n    title: y\n    notes: |\n      line A\n      line B\n'],
      // One side added more after the line both added.
      [base, base.replace('line A\n', 'line A\n      line C\n      line D\n'), base.replace('title: x', 'title: z').replace('line A\n', 'line A\n      line C\n'),
        'todos:\n  - id: T-1\n    title: z\n    notes: |\n      line A\n      line C\n      line D\n'],
      // The same new todo on both sides, other edits beside it.
      [base, base.replace('title: x', 'title: y') + '  - id: T-2\n    title: new\n', base + '  - id: T-2\n    title: new\n',
        'todos:\n  - id: T-1\n    title: y\n    notes: |\n      line A\n  - id: T-2\n    title: new\n'],
    ]
    for (const [b0, a, b, want] of cases) {
      expect(full(b0, a, b).text).toBe(want)
      expect(full(b0, b, a).text).toBe(want)
      const r = await regions(b0, a, b)
      if (r) expect(r.text).toBe(want)
    }
    // Two different new todos that only share a line stay two todos, each whole.
    const t1 = base + '  - id: T-2\n    title: two\n    status: open\n'
    const t2 = base + '  - id: T-3\n    title: three\n    status: open\n'
    const both = full(base, t1, t2).text
    for (const l of ['- id: T-2', '- id: T-3', 'title: two', 'title: three']) expect(both.split('\n').filter((x) => x.trim() === l)).toHaveLength(1)
    expect(both.split('\n').filter((x) => x.trim() === 'status: open')).toHaveLength(2)
  })

  it('lines both sides appended at one place come out in the whole merge\'s order (seeds 1859, 2860)', async () => {
    // Each side's new lines are named by its count of new ids, which the region merge started at its region:
    // ann's earlier line in t1 made the whole merge count one more, and the tie between ann's and bob's last
    // lines of t3 went the other way in about a third of these (2, 3, 4, 9 of the first ten).
    const todo = (id: string, lines: string[]) => `  - id: ${id}\n    status: open\n    notes: |\n${lines.map((l) => `      ${l}\n`).join('')}`
    for (let k = 0; k < 10; k++) {
      const base = 'todos:\n' + todo('t1', ['one']) + todo('t2', ['two']) + todo('t3', ['three'])
      const a = 'todos:\n' + todo('t1', ['one', `ann's note ${k}`]) + todo('t2', ['two']) + todo('t3', ['three', 'ann: done'])
      const b = 'todos:\n' + todo('t1', ['one']) + todo('t2', ['two']) + todo('t3', ['three', 'bob: not yet'])
      const r = await regions(base, a, b)
      expect(r, `k ${k}`).not.toBeNull()
      expect(r!.text, `k ${k}`).toBe(full(base, a, b).text)
      expect((await regions(base, b, a))!.text, `k ${k}`).toBe(r!.text)
    }
  })

  it('randomized: region merge keeps every change, parses, is symmetric, and conflicts like the whole merge', async () => {
    let taken = 0
    const failed: string[] = []
    const range = Array.from({ length: SEEDS }, (_, i) => BASE + i)
    for (const seed of [...range, ...REGRESSION_SEEDS.filter((s) => !range.includes(s))]) {
      try {
        const r = await runSeed(seed)
        if (r.taken) taken++
        if (r.ordered !== ORDER_SEEDS.includes(seed)) failed.push(`seed ${seed}: the region merge ordered ${r.ordered ? 'unlike' : 'like'} the whole merge`)
      } catch (e) {
        failed.push(`seed ${seed}: ${(e as Error).message}`)
      }
    }
    if (range.length > 150) console.log(`merge seeds ${BASE}-${BASE + SEEDS - 1}: region merge taken in ${taken}, ${failed.length} failing`)
    expect(failed.join('\n\n')).toBe('')
    if (range.length >= 100) expect(taken).toBeGreaterThan(range.length * 0.6)
  }, Math.max(120_000, SEEDS * 200))
})

describe('derived client ids (crdt/merge/clientid.ts)', () => {
  // Peers on older versions derived these ids with node:crypto; the same merge must invent the same ids.
  it('equal the ids the node:crypto derivation gave', async () => {
    const { createHash } = await import('node:crypto')
    const { derivedClientId } = await import('../../src/crdt/merge/clientid.js')
    const old = (...parts: string[]) => {
      const h = createHash('sha256')
      parts.forEach((p, i) => h.update(i ? '\0' + p : p))
      return (h.digest().readUInt32BE(0) % 0xfffffffe) + 1
    }
    const rnd = mulberry32(7)
    for (let i = 0; i < 200; i++) {
      const s = Array.from({ length: Math.floor(rnd() * 40) }, () => String.fromCodePoint(Math.floor(rnd() * 0x2fff))).join('')
      expect(derivedClientId('ctxsync-merge', '.rhema/todos.yaml', s)).toBe(old('ctxsync-merge', '.rhema/todos.yaml', s))
      expect(derivedClientId('ctxsync-git', 'a.yaml', s, s + 'x')).toBe(old('ctxsync-git', 'a.yaml', s, s + 'x'))
    }
  })
})

/**
 * Stale library dumps told by their data (crdt/staledata.ts) in the tester's shapes (black-box tester stop 30,
 * finding 4a): an agent read the file, bob changed statuses (written into the agent's file), the agent dumped
 * what it read with one change. Its data must be compared with merge keys resolved, and its own change of a
 * field bob changed too must not make it read as made from the newest (bob's other values rolled back).
 */
import { expect, it } from 'vitest'
import { parse } from 'yaml'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'
import { keepFormat } from '../../src/crdt/keepformat.js'
import { defaultRules } from '../../src/crdt/rules.js'
import { pyyamlDump, pyyamlLike } from '../generators/dumps.js'

const load = (t: string) => parse(t, { merge: true }) as { todos: Array<Record<string, unknown>> }
function dump(data: unknown): string {
  const py = pyyamlDump([data])
  return 'texts' in py ? py.texts[0]! : pyyamlLike(data)
}

/** The tester's todos.yaml (finding 4a): ten todos, a flow map merging an anchored one. */
const tenTodos = (s: string[], anchors: boolean) => {
  const t = `# todos\nbase: &base {owner: ann, area: core}\ntodos:\n${s.map((x, i) => `  - id: T-${i + 1}\n    title: t${i + 1}\n    status: ${x}  # c\n`).join('')}config: {<<: *base}\n`
  return anchors ? t : t.replace(' &base', '').replace('{<<: *base}', '{owner: ann, area: core}')
}

for (const anchors of [true, false]) {
  it(`a stale dump setting a status the peer also changed keeps the peer's nine others (finding 4a exactly; ${anchors ? 'with' : 'without'} anchors)`, () => {
    const before = Array.from({ length: 10 }, () => 'todo')
    const bobs = before.map((_, i) => `bobdone${i + 1}`)
    const read = tenTodos(before, anchors)
    const [A, B] = newPair(read)
    B.ingest(tenTodos(bobs, anchors))
    send(B, A)
    A.setBase(A.render())
    const data = load(read)
    data.todos[9]!.status = 's33195'
    const saved = dump(data)
    // Made from what the agent read: its data holds none of bob's values, the one it set is its own.
    expect(A.dumpBase(saved)).toBe(read)
    const kept = keepFormat(read, saved, defaultRules)
    const out = A.ingest(kept.kind === 'kept' ? kept.text : saved)
    const got = load(out.text ?? '').todos.map((t) => t.status)
    expect(got.slice(0, 9)).toEqual(bobs.slice(0, 9))
    // T-10 both changed: the agent's stale save over bob's value, said as such (9 kept, 1 overwritten).
    expect(got[9]).toBe('s33195')
    expect(out.stale).toMatchObject({ kept: 9, overwritten: 1 })
    expect(out.text).toContain(anchors ? 'config: {<<: *base}' : '# todos')
    A.destroy()
    B.destroy()
  })
}

it('a stale dump of a file where every item merges an anchored mapping is told by its data (merge keys resolved)', () => {
  const file = (s: string[]) => `# todos\nbase: &base\n  owner: ann\n  area: core\n  team: web\n  prio: 2\ntodos:\n${s.map((x, i) => `  - id: T-${i + 1}\n    <<: *base\n    status: ${x}  # c\n`).join('')}`
  const before = Array.from({ length: 8 }, () => 'todo')
  const theirs = before.map((x, i) => (i < 3 ? `bob${i + 1}` : x))
  const read = file(before)
  const [A, B] = newPair(read)
  B.ingest(file(theirs))
  send(B, A)
  A.setBase(A.render())
  const data = load(read)
  data.todos[5]!.status = 'mine'
  const saved = dump(data)
  // Compared unresolved, each item's four merged keys counted as the save's own changes, and a rewrite was
  // then too few lines for that many: not told as stale, keep-format worked from the newest text.
  expect(A.dumpBase(saved)).toBe(read)
  const kept = keepFormat(read, saved, defaultRules)
  expect(A.ingest(kept.kind === 'kept' ? kept.text : saved).text).toBe(file(theirs.map((x, i) => (i === 5 ? 'mine' : x))))
  A.destroy()
  B.destroy()
})

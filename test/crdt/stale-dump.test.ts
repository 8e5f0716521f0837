/**
 * A whole-file rewrite from a stale read (issue 16, black-box tester): an agent read the file, a peer changed
 * some values (ctxsync wrote them into the file), and the agent dumped the whole file through a YAML library
 * (PyYAML `safe_dump`: keys sorted, sequences not indented, comments gone) with its one change. Its lines
 * match neither text, so it was read as made from the newest: the peer's values it re-dumped from its read
 * overwrote theirs on every clone, with no record, and history listed two changes by the agent for one.
 * Told by its data (crdt/staledata.ts), it is a stale save of what it read: the peer's values stay.
 *
 * A seeded generator: files of 2–5 todos, 1–2 of the peer's changes (a value, or a todo added), one change
 * of the agent's elsewhere, dumped with random library settings. CTXSYNC_DUMP_SEEDS=<from>-<to> runs more.
 */
import { expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { mulberry32 } from './mutate.js'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'
import { keepFormat } from '../../src/crdt/keepformat.js'
import { defaultRules } from '../../src/crdt/rules.js'

interface Todo { id: string; title: string; status: string; note?: string }
const STATUSES = ['todo', 'doing', 'review', 'done']

function fileOf(todos: Todo[], comment: boolean): string {
  const items = todos.map((t) => `${t.note ? `  # ${t.note}\n` : ''}  - id: ${t.id}\n    title: "${t.title}"\n    status: ${t.status}\n`).join('')
  return `${comment ? '# The team\'s todos\n' : ''}todos:\n${items}`
}

/** JSON with every mapping's keys sorted: data compared, not key order. */
const canon = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x))

const span = (process.env.CTXSYNC_DUMP_SEEDS ?? '1-60').split('-').map(Number) as [number, number]
const seeds = Array.from({ length: span[1] - span[0] + 1 }, (_, i) => span[0] + i)

it(`a library's rewrite from a stale read keeps what the peer changed since (seeds ${span[0]}-${span[1]})`, () => {
  const failed: string[] = []
  for (const seed of seeds) {
    const r = mulberry32(seed)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
    const todos: Todo[] = Array.from({ length: 2 + Math.floor(r() * 4) }, (_, i) => ({ id: `T-${i + 1}`, title: `task ${i + 1}`, status: pick(STATUSES) }))
    const read = fileOf(todos, r() < 0.5)
    const [A, B] = newPair(read)
    // The peer's changes, which A's daemon writes into A's file (a base of ours: recent.ts).
    const theirs: Todo[] = todos.map((t) => ({ ...t }))
    const touched = new Set<string>()
    for (let k = 1 + Math.floor(r() * 2); k > 0; k--) {
      // Half the time with a comment line of the peer's above the item (black-box tester, issue 13: an agent's
      // dump kept through keep-format lost the peer's item, the comment left with nothing under it).
      const note = r() < 0.5 ? `by the peer ${seed}.${k}` : undefined
      if (r() < 0.25) theirs.push({ id: `T-${theirs.length + 1}`, title: 'added by the peer', status: 'todo', ...(note ? { note } : {}) })
      else {
        const t = pick(theirs.slice(0, todos.length))
        touched.add(t.id)
        t.status = pick(STATUSES.filter((s) => s !== t.status))
        if (note) t.note ??= note
      }
    }
    B.ingest(fileOf(theirs, read.startsWith('#')))
    send(B, A)
    A.setBase(A.render())
    // The agent changes one other todo's title in what it read, and dumps the whole file.
    const free = todos.filter((t) => !touched.has(t.id))
    if (!free.length) continue
    const mine = pick(free).id
    const data = { todos: todos.map((t) => (t.id === mine ? { ...t, title: `${t.title}, by the agent` } : t)) }
    const dump = stringify(data, { sortMapEntries: r() < 0.7, indentSeq: r() < 0.3 })
    // Half the time the agent's saves keep the format (the default for agents): the daemon applies the dump's
    // data changes to the text it was made from (space/reconcile.ts keptFormat), then takes that in.
    const kept = r() < 0.5 ? keepFormat(A.dumpBase(dump) ?? '', dump, defaultRules) : null
    const out = A.ingest(kept?.kind === 'kept' ? kept.text : dump)
    const want = { todos: theirs.map(({ note: _n, ...t }) => (t.id === mine ? { ...t, title: `${t.title}, by the agent` } : t)) }
    const got = parse(out.text ?? '') as unknown
    const notes = theirs.filter((t) => t.note).map((t) => [`  # ${t.note}`, `  # ${t.note}\n  - id: ${t.id}\n`] as const)
    const how = kept ? `keep-format ${kept.kind}` : "as dumped"
    if (canon(got) !== canon(want)) failed.push(`seed ${seed} (${how}): ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}`)
    else if (kept?.kind === 'kept' && notes.some(([line, above]) => out.text!.split('\n').filter((l) => l === line).length !== 1 || !out.text!.includes(above))) failed.push(`seed ${seed} (${how}): the peer's comment lines not once above their items:\n${out.text}`)
    A.destroy()
    B.destroy()
  }
  expect(failed).toEqual([])
})

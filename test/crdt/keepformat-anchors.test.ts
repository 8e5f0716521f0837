/**
 * Library dumps of files with anchors, aliases and merge keys (black-box tester stop 30, findings 4a-4c, 6).
 * PyYAML's `safe_load` expands `<<: *base` and `*alias` into plain values, and `safe_dump` writes them so: the
 * dump's data matched no text's data as read without resolving them, so a stale dump was taken as a fresh
 * whole-file save (anchors, merge keys and comments gone on every peer, the peer's values rolled back), and a
 * fresh one was flattened. Here the texts' data is read with aliases and merge keys resolved (as a library
 * reads them), and the dump's data changes are applied to the text, anchors kept. The dumps are PyYAML's
 * own (python3) when it is there, else the `yaml` package's imitation of it.
 */
import { expect, it } from 'vitest'
import { parse } from 'yaml'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'
import { keepFormat } from '../../src/crdt/keepformat.js'
import { defaultRules } from '../../src/crdt/rules.js'
import { pyyamlDump, pyyamlLike } from '../generators/dumps.js'

const statuses = (s: string[]) => `# The team's todos
defaults: &base
  owner: ann   # who answers
  area: core
team: &lead alice
todos:
  # first the release
  - id: T-1
    title: "task 1"
    status: ${s[0]}
    <<: *base
  - id: T-2
    title: task 2
    status: ${s[1]}
    lead: *lead
  - id: T-3
    title: task 3
    status: ${s[2]}
config:
  <<: *base
  retries: 3  # the CI's limit
`

/** What a library reads: aliases and merge keys resolved. */
const load = (t: string) => parse(t, { merge: true }) as { todos: Array<Record<string, unknown>>; config: Record<string, unknown> }
/** PyYAML's `safe_dump` of `data` (keys sorted, no comments, no anchors for repeated strings). */
function dump(data: unknown): string {
  const py = pyyamlDump([data])
  return 'texts' in py ? py.texts[0]! : pyyamlLike(data)
}

it('a stale dump of a file with an anchor, an alias and merge keys keeps them, and the peer\'s values (finding 4a)', () => {
  const read = statuses(['todo', 'todo', 'todo'])
  const [A, B] = newPair(read)
  // The peer changes two statuses; A's daemon writes them into A's file.
  B.ingest(statuses(['done', 'doing', 'todo']))
  send(B, A)
  A.setBase(A.render())
  // The agent changes T-3's title in what it read, and dumps the whole file.
  const data = load(read)
  data.todos[2]!.title = 'task 3, by the agent'
  const saved = dump(data)
  const base = A.dumpBase(saved)
  expect(base).toBe(read)
  const kept = keepFormat(base ?? '', saved, defaultRules)
  expect(kept).toMatchObject({ kind: 'kept', text: read.replace('title: task 3', 'title: task 3, by the agent') })
  const out = A.ingest(kept.kind === 'kept' ? kept.text : saved)
  expect(out.text).toBe(statuses(['done', 'doing', 'todo']).replace('title: task 3', 'title: task 3, by the agent'))
  A.destroy()
  B.destroy()
})

it('a fresh dump of a file with an anchor, an alias and merge keys changes only the changed value (findings 4b, 4c, 6)', () => {
  const text = statuses(['todo', 'todo', 'todo'])
  const data = load(text)
  data.todos[0]!.status = 'done ✓'
  const r = keepFormat(text, dump(data), defaultRules)
  expect(r).toMatchObject({ kind: 'kept', text: text.replace('status: todo', 'status: done ✓'), changes: [{ kind: 'changed', path: 'todos.0.status' }] })
})

const TEAM = `# conventions
team: &lead alice
owner: *lead   # the lead answers
tags: &tags [core, api]
also: *tags
defaults: &base
  area: core
  reviewer: bob
config:
  <<: *base
  retries: 3
`

it('a value under an anchor, an alias or a merge key is written where it lives, or refused with the place named', () => {
  const rules = defaultRules
  const change = (f: (d: Record<string, any>) => void) => {
    const d = parse(TEAM, { merge: true }) as Record<string, any>
    f(d)
    return keepFormat(TEAM, dump(d), rules)
  }
  // One use of an alias changed: written at that use; the anchor and its other uses stay.
  expect(change((d) => (d.owner = 'carol'))).toMatchObject({ kind: 'kept', text: TEAM.replace('owner: *lead', 'owner: carol') })
  // A key a merge key brings, changed in the merging map: written there (its own keys win over merged ones).
  expect(change((d) => (d.config.area = 'ui'))).toMatchObject({ kind: 'kept', text: TEAM.replace('  retries: 3\n', '  retries: 3\n  area: ui\n') })
  // A list the library shared between the anchor and its alias, changed at both: written at the anchor, in the
  // list's own style (an anchored collection is modelled like any other since finding 5).
  expect(change((d) => d.tags.push('web'))).toMatchObject({ kind: 'kept', text: TEAM.replace('&tags [core, api]', '&tags [core, api, web]') })
  // The anchored value changed where its uses did not (PyYAML copies what a merge brings, and a string is no
  // shared object): written at the anchor, and each use that kept the old value says it as its own.
  const area = TEAM.replace('  area: core\n  reviewer', '  area: ui\n  reviewer').replace('  retries: 3\n', '  retries: 3\n  area: core\n')
  expect(change((d) => (d.defaults.area = 'ui'))).toMatchObject({ kind: 'kept', text: area })
  expect(change((d) => (d.team = 'carol'))).toMatchObject({ kind: 'kept', text: TEAM.replace('&lead alice', '&lead carol').replace('owner: *lead', 'owner: alice') })
  expect(change((d) => ((d.team = 'carol'), (d.owner = 'carol')))).toMatchObject({ kind: 'kept', text: TEAM.replace('&lead alice', '&lead carol') })
  // A key a merge key brings, removed: the text cannot say so. Refused, the place named (the daemon then
  // takes the dump as it is, with this reason: its data is kept).
  expect(change((d) => delete d.config.reviewer)).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/^config\.reviewer comes from a merge key/) })
})

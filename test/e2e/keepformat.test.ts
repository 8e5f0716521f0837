/**
 * Issue 13 item 7 through the built CLI: an agent peer saves a library dump of a context file with one value
 * changed (sorted keys, sequences not indented, every comment gone — PyYAML's style); both peers end with
 * the file as it was but for that one line, and the agent's status and daemon log say so. With
 * `keep-format: off` the dump is synced as it is.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { keepFormat } from '../../src/crdt/keepformat.js'
import { compileRules } from '../../src/crdt/rules.js'
import { ctxJson, fileState, killAll, readFile, removeTmpDirs, setupSpace, startWatch, TODOS, waitFileEquals, waitLog, writeFile, type Peer } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const ORIGINAL = fs.readFileSync(path.resolve(__dirname, '../../fixtures/styles/todos.yaml'), 'utf8')

/** What an agent writes: the file loaded, one status changed, dumped the PyYAML way. */
function dumpWithStatus(text: string, id: string, status: string): string {
  const data = parse(text) as { todos: Array<{ id: string; status: string }> }
  data.todos.find((t) => t.id === id)!.status = status
  return stringify(data, { sortMapEntries: true, indentSeq: false, lineWidth: 80 })
}

function makeAgent(p: Peer, teamSetting?: string): void {
  const local = path.join(p.dir, '.ctxsync', 'local.yaml')
  fs.writeFileSync(local, fs.readFileSync(local, 'utf8').replace(/^agent: false$/m, 'agent: true'))
  if (teamSetting) fs.appendFileSync(path.join(p.dir, 'ctxsync.yaml'), `keep-format: ${teamSetting}\n`)
}

describe('e2e: an agent\'s library dump keeps the team\'s formatting', { timeout: 120_000 }, () => {
  it('one status changed by a dump: every comment and every other line as before, on both peers', async () => {
    const { peers } = await setupSpace(['a', 'agent'], { files: { [TODOS]: ORIGINAL } })
    const [a, b] = peers as [Peer, Peer]
    makeAgent(b)
    const [da, db] = [await startWatch(a), await startWatch(b)]
    await waitLog(da, /connected to agent/)
    await waitLog(db, /connected to a/)
    const dump = dumpWithStatus(ORIGINAL, 'T-102', 'done')
    expect(dump).not.toContain('#')
    await writeFile(b, TODOS, dump)
    const want = ORIGINAL.replace(/(- id: T-102\n(?:.*\n)*?\s+status: )todo/, '$1done')
    expect(want).not.toBe(ORIGINAL)
    await waitFileEquals(b, want)
    await waitFileEquals(a, want)
    await waitLog(db, /todos\.yaml: a whole-file rewrite by a YAML library was taken in as 1 value change; comments and formatting kept/)
    const st = await fileState(b)
    expect(st.formatKept?.message).toMatch(/taken in as 1 value change/)
    expect(readFile(a)).toBe(want)
  })

  // Black-box tester finding 9a: the lines the merge wrote anew (a block scalar's) ended in \n in a CRLF file.
  it('a dump of a CRLF file (LF, as libraries write on Linux) with a new block of text: CRLF throughout, on both peers', async () => {
    const crlf = ORIGINAL.replace(/\n/g, '\r\n')
    const { peers } = await setupSpace(['a', 'agent'], { files: { [TODOS]: crlf } })
    const [a, b] = peers as [Peer, Peer]
    makeAgent(b)
    const [da, db] = [await startWatch(a), await startWatch(b)]
    await waitLog(da, /connected to agent/)
    await waitLog(db, /connected to a/)
    const data = parse(ORIGINAL) as { todos: Array<{ id: string; status: string; notes?: string }> }
    data.todos.find((t) => t.id === 'T-102')!.status = 'done'
    data.todos.find((t) => t.id === 'T-102')!.notes = 'shipped on Friday\nfollow-up in T-105\n'
    const dump = stringify(data, { sortMapEntries: true, indentSeq: false, lineWidth: 80 })
    expect(dump).not.toContain('\r')
    const want = keepFormat(crlf, dump, compileRules(TODOS))
    expect(want.kind).toBe('kept')
    const text = want.kind === 'kept' ? want.text : ''
    expect(text).toContain('notes: |\r\n')
    expect(text).not.toMatch(/(^|[^\r])\n/)
    await writeFile(b, TODOS, dump)
    await waitFileEquals(b, text)
    await waitFileEquals(a, text)
    await waitLog(db, /todos\.yaml: a whole-file rewrite by a YAML library was taken in as 2 value changes; comments and formatting kept/)
  })

  // Black-box tester stop 30, finding 4a: a stale PyYAML dump of a file with an anchor, an alias and merge keys
  // flattened them and every comment on every peer, and rolled back the peer's values.
  it('a stale dump of a file with anchors, an alias and merge keys: only its change, the peer\'s values and the anchors kept', async () => {
    const file = (s: string[]) => `# The team's todos\nbase: &base {owner: ann, area: core}\nteam: &lead alice\ntodos:\n${s.map((x, i) => `  - id: T-${i + 1}\n    title: t${i + 1}\n    status: ${x}  # c\n    lead: *lead\n`).join('')}config: {<<: *base}\nci:\n  <<: *base\n  retries: 3  # the limit\n`
    const read = file(['todo', 'todo', 'todo', 'todo'])
    const { peers } = await setupSpace(['a', 'agent'], { files: { [TODOS]: read } })
    const [a, b] = peers as [Peer, Peer]
    makeAgent(b)
    const [da, db] = [await startWatch(a), await startWatch(b)]
    await waitLog(da, /connected to agent/)
    await waitLog(db, /connected to a/)
    const theirs = file(['done', 'doing', 'todo', 'todo'])
    await writeFile(a, TODOS, theirs)
    await waitFileEquals(b, theirs)
    // The agent dumps what it read before, with T-4's title changed (PyYAML's way: merge keys and aliases expanded).
    const data = parse(read, { merge: true }) as { todos: Array<{ title: string }> }
    data.todos[3]!.title = 'by the agent'
    const dump = stringify(data, { sortMapEntries: true, indentSeq: false, lineWidth: 80 })
    expect(dump).not.toMatch(/[#&*]|<</)
    await writeFile(b, TODOS, dump)
    const want = theirs.replace('title: t4', 'title: by the agent')
    await waitFileEquals(b, want)
    await waitFileEquals(a, want)
    await waitLog(db, /todos\.yaml: a whole-file rewrite by a YAML library was taken in as 1 value change; comments and formatting kept/)
  })

  it('keep-format: off: the dump is synced as it is', async () => {
    const { peers } = await setupSpace(['a', 'agent'], { files: { [TODOS]: ORIGINAL } })
    const [a, b] = peers as [Peer, Peer]
    makeAgent(b, 'off')
    const [da, db] = [await startWatch(a), await startWatch(b)]
    await waitLog(da, /connected to agent/)
    await waitLog(db, /connected to a/)
    const dump = dumpWithStatus(ORIGINAL, 'T-102', 'done')
    await writeFile(b, TODOS, dump)
    await waitFileEquals(a, dump)
    expect(readFile(b)).toBe(dump)
  })

  it('an agent\'s `: > file` (the file emptied) is said as emptied, with the undo: not as a YAML library\'s rewrite', async () => {
    const { peers } = await setupSpace(['agent'], { files: { [TODOS]: ORIGINAL } })
    const [b] = peers as [Peer]
    makeAgent(b)
    const db = await startWatch(b)
    await writeFile(b, TODOS, '')
    await waitLog(db, /todos\.yaml: this save emptied the file \(\d+ entries removed\) — taken in and synced; if that was a mistake, `ctxsync undo [0-9a-f]{8}` brings them back/)
    expect(db.log()).not.toMatch(/YAML library/)
    expect((await ctxJson(b.dir, ['status'])).massDeletions?.[0]).toMatchObject({ doc: TODOS, emptied: true })
  })
})

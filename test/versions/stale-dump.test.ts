/**
 * History of a library's rewrite from a stale read (issue 16, black-box tester): the agent read the file, a
 * peer changed one value, the agent dumped the whole file (PyYAML-style: keys sorted, sequences not indented)
 * with its one change. It was logged as two value changes by the agent — the peer's value it had re-dumped
 * from its read, overwritten on every clone, and its own. Now the peer's value stays and the agent's version
 * lists its one change (crdt/staledata.ts; the generator is test/crdt/stale-dump.test.ts).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { historyOf, versionsDirOf } from '../../src/space/versions/index.js'
import { spacePaths } from '../../src/space/paths.js'
import { idle, joinCode, Node, removeSpaceDirs, TODOS } from '../space/harness.js'

afterAll(removeSpaceDirs)

const TEXT = `# Team todos
todos:
  - id: t0
    title: "first"     # quoted on purpose
    status: todo
  - id: t1
    title: second
    status: todo
`

it('an agent\'s stale whole-file dump is its one change; the peer\'s value stays', async () => {
  const agent = await Node.make({ name: 'claude', files: { [TODOS]: TEXT } })
  const local = spacePaths(agent.root).local
  await fs.writeFile(local, (await fs.readFile(local, 'utf8')).replace(/^agent: false$/m, 'agent: true'))
  // Synced as written (keep-format off): the dump's lines match neither text the file held.
  await fs.appendFile(path.join(agent.root, 'ctxsync.yaml'), 'keep-format: off\n')
  const bob = await Node.make({ name: 'bob', join: await joinCode(agent.root) })
  await agent.start()
  await bob.start()
  const pass = async (from: Node, to: Node) => {
    await to.s.applyRemote(TODOS, from.host().encodeDiff(TODOS, to.host().stateVector(TODOS))!, from.id)
    await idle(to.s)
  }
  await pass(agent, bob)
  // The agent has read TEXT; bob's change reaches its file; the agent dumps what it read, with t1 done.
  await bob.edit(TEXT.replace('status: todo', 'status: review'))
  await pass(bob, agent)
  await agent.edit(stringify({ todos: [{ id: 't0', status: 'todo', title: 'first' }, { id: 't1', status: 'done', title: 'second' }] }, { sortMapEntries: true, indentSeq: false }))
  await pass(agent, bob)
  for (const n of [agent, bob]) {
    expect(await n.file()).toMatch(/id: t0\n {2}status: review\n[^]*id: t1\n {2}status: done\n/)
    await n.s.versions!.flushed()
    const [last] = await historyOf(versionsDirOf(n.root), {})
    expect(last!.authors.map((a) => a.name)).toEqual(['claude'])
    expect(last!.fields.map((f) => `${f.path}: ${f.before} → ${f.after}`)).toEqual(['todos[id=t1].status: "todo" → "done"'])
  }
  for (const n of [agent, bob]) await n.close()
})

/**
 * An agent's library dump from a stale read, where keep-format applies (src/space/reconcile.ts keptFormat), in
 * process (black-box tester, issue 13 item 3): pat appended a todo with a comment line above it; the agent,
 * which had read the file before, changed a status and dumped the whole file (PyYAML style). The dump's data
 * changes were applied to the newest text, where its lack of pat's todo read as deleting it and pat's
 * comment (no library writes comments) stayed: the todo was gone on both peers, the comment left with no
 * item under it, no conflict. They are now applied to the text the dump was made from (crdt/recent.ts
 * `dumpBase`), and that save is a stale save of it: pat's todo and comment stay.
 */
import fs from 'node:fs/promises'
import { afterAll, expect, it } from 'vitest'
import { spacePaths } from '../../src/space/paths.js'
import { idle, joinCode, Node, removeSpaceDirs, SEED, TODOS } from './harness.js'

afterAll(removeSpaceDirs)

const PYYAML = (t1: string) => `todos:\n- id: t0\n  title: first\n  status: todo\n- id: t1\n  title: second\n  status: ${t1}\n`

async function pair(): Promise<{ pat: Node; agent: Node }> {
  const pat = await Node.make({ name: 'pat', files: { [TODOS]: SEED } })
  const agent = await Node.make({ name: 'agent', join: await joinCode(pat.root) })
  const local = spacePaths(agent.root).local
  await fs.writeFile(local, (await fs.readFile(local, 'utf8')).replace(/^agent: false$/m, 'agent: true'))
  await pat.start()
  await agent.start()
  await sync(pat, agent)
  return { pat, agent }
}

async function sync(from: Node, to: Node): Promise<void> {
  const diff = from.host().encodeDiff(TODOS, to.host().stateVector(TODOS))
  if (diff) await to.s.applyRemote(TODOS, diff, from.id)
  await idle(to.s)
}

it("an agent's stale dump keeps the todo a peer appended under a comment line", async () => {
  const { pat, agent } = await pair()
  expect(await agent.file()).toBe(SEED)
  const added = SEED + '  # added by pat\n  - id: t2\n    title: third\n    status: todo\n'
  await pat.edit(added)
  await idle(pat.s)
  await sync(pat, agent)
  expect(await agent.file()).toBe(added)
  await agent.edit(PYYAML('done'))
  await idle(agent.s)
  const want = added.replace('second\n    status: todo', 'second\n    status: done')
  expect(await agent.file()).toBe(want)
  await sync(agent, pat)
  expect(await pat.file()).toBe(want)
  await pat.close()
  await agent.close()
})

it("an agent's stale dump keeps a peer's rename that came with a comment line", async () => {
  const { pat, agent } = await pair()
  const renamed = SEED.replace('  - id: t1\n    title: second', '  # pat: renamed\n  - id: t1\n    title: second, renamed')
  await pat.edit(renamed)
  await idle(pat.s)
  await sync(pat, agent)
  expect(await agent.file()).toBe(renamed)
  await agent.edit(PYYAML('todo').replace('title: first\n  status: todo', 'title: first\n  status: done'))
  await idle(agent.s)
  const want = renamed.replace('first\n    status: todo', 'first\n    status: done')
  expect(await agent.file()).toBe(want)
  await sync(agent, pat)
  expect(await pat.file()).toBe(want)
  await pat.close()
  await agent.close()
})

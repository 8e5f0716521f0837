/**
 * keep-format where a save is taken in (src/space/reconcile.ts), in process: on an agent peer a library dump
 * becomes its data changes (the file is rewritten with the team's text, the status says so, a peer receives
 * only the change); on a person's peer the dump is taken as it is unless `keep-format: everyone`; `off`
 * turns it off for agents too. A precise edit on an agent peer is kept byte for byte.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify, parse } from 'yaml'
import { spacePaths } from '../../src/space/paths.js'
import { liveFiles } from '../../src/space/summary.js'
import { idle, Node, removeSpaceDirs, TODOS } from './harness.js'

afterAll(removeSpaceDirs)

const TEXT = `# Team todos
# (comments must survive)
todos:
  - id: t0
    title: "first"     # quoted on purpose
    status: todo

  - id: t1
    title: second
    status: todo
`
const DUMP = stringify({ todos: [{ id: 't0', status: 'todo', title: 'first' }, { id: 't1', status: 'done', title: 'second' }] }, { sortMapEntries: true, indentSeq: false })
const KEPT = TEXT.replace(/(title: second\n    status: )todo/, '$1done')

async function member(o: { agent: boolean; mode?: string }): Promise<Node> {
  const n = await Node.make({ name: o.agent ? 'agent' : 'dana', files: { [TODOS]: TEXT } })
  const local = spacePaths(n.root).local
  await fs.writeFile(local, (await fs.readFile(local, 'utf8')).replace(/^agent: false$/m, `agent: ${o.agent}`))
  if (o.mode) await fs.appendFile(path.join(n.root, 'ctxsync.yaml'), `keep-format: ${o.mode}\n`)
  await n.start()
  return n
}

describe('keep-format where saves are taken in', () => {
  it('an agent\'s dump becomes one value change: the file holds the team\'s text, status says so', async () => {
    const n = await member({ agent: true })
    expect(parse(DUMP)).toEqual(parse(KEPT))
    await n.edit(DUMP)
    await idle(n.s)
    expect(await n.file()).toBe(KEPT)
    expect(n.s.doc(TODOS)!.model.render().text).toBe(KEPT)
    const st = liveFiles(n.s).find((f) => f.path === TODOS)!
    expect(st.formatKept?.message).toBe('.rhema/todos.yaml: a whole-file rewrite by a YAML library was taken in as 1 value change; comments and formatting kept')
    await n.close()
  })

  it('an agent\'s precise edit is kept byte for byte', async () => {
    const n = await member({ agent: true })
    const precise = TEXT.replace('title: second', "title: 'second, edited'").replace('# (comments must survive)\n', '')
    await n.edit(precise)
    await idle(n.s)
    expect(await n.file()).toBe(precise)
    expect(liveFiles(n.s).find((f) => f.path === TODOS)!.formatKept).toBeUndefined()
    await n.close()
  })

  it.each([
    { who: 'a person (default: agents only)', agent: false, mode: undefined, want: DUMP },
    { who: 'a person with keep-format: everyone', agent: false, mode: 'everyone', want: KEPT },
    { who: 'an agent with keep-format: off', agent: true, mode: 'off', want: DUMP },
  ])('$who', async ({ agent, mode, want }) => {
    const n = await member({ agent, mode })
    await n.edit(DUMP)
    await idle(n.s)
    expect(await n.file()).toBe(want)
    expect(n.s.doc(TODOS)!.model.render().text).toBe(want)
    await n.close()
  })
})

/**
 * `diff` names who set each changed field's new value, the same on every peer (issue 16, black-box tester):
 * a field only ann edited showed `— ann, bob` where bob took in ann's edit together with his own (one version
 * naming both), and a removed field named no one.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  ctxJson, edit, killAll, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch, TODOS, waitChange, waitFor, waitLog, waitSame,
  type Peer,
} from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const authorsOf = async (p: Peer): Promise<Record<string, string>> => {
  const out: Record<string, string> = {}
  for (const c of (await ctxJson(p.dir, ['diff', '--json'])).files[0].changes) out[c.path] = c.authors.map((a: any) => a.name).join(', ')
  return out
}

describe('e2e: diff authors', { timeout: 120_000 }, () => {
  it('edits taken in together: each field names its own writer, on both peers; a removal names who removed', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    const da = await startWatch(a)
    const db = await startWatch(b)
    await waitLog(da, /connected to b/)
    await stopWatch(db)
    // While b's daemon is down: a edits a title, b changes a status and removes t3 on disk.
    await edit(a, '"First task"', '"First task by a"')
    await waitChange(a, (c) => c.via === 'local', 'a\'s edit')
    await edit(b, '    title: "Second task"\n    status: open', '    title: "Second task"\n    status: doing')
    await edit(b, '  - id: t3\n    title: "Third task"\n    status: open\n', '')
    const db2 = await startWatch(b)
    await waitLog(db2, /connected to a/)
    const text = await waitSame([a, b], TODOS, (t) => t.includes('by a') && t.includes('doing') && !t.includes('t3'))
    expect(text).toContain('First task by a')
    const want = { 'todos[id=t1].title': 'a', 'todos[id=t2].status': 'b', 'todos[id=t3]': 'b' }
    for (const p of [a, b]) {
      let got: Record<string, string> = {}
      await waitFor(async () => {
        got = await authorsOf(p)
        return JSON.stringify(got) === JSON.stringify(want)
      }, 15_000, `${p.name}'s diff authors`, () => JSON.stringify(got))
    }
  })
})

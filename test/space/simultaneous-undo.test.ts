/**
 * Black-box tester stop 31, finding 11: three people set one value at once (a7, b7, c7: c's the later, shown;
 * the record lists all three); c runs `undo` of its change. The undo wrote the value c's change replaced (the
 * one before the race) as a fresh edit, which superseded the race's record: a7 and b7 were listed nowhere,
 * only in history. Undoing c7 takes back c7 alone: a7 and b7 still compete, the later of them shown
 * (conflicts.ts takeBack).
 */
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { leaveIntent } from '../../src/space/versions/intent.js'
import { textHash } from '../../src/space/versions/store.js'
import { spacePaths } from '../../src/space/paths.js'
import { historyOf, versionsDirOf } from '../../src/space/versions/index.js'
import { idle, Node, pass, removeSpaceDirs, SEED, team, TODOS } from './harness.js'

afterAll(removeSpaceDirs)

const titled = (t: string) => SEED.replace('title: second\n', `title: ${t}\n`)
const everyone = async (peers: Node[]) => { for (let r = 0; r < 2; r++) for (const x of peers) for (const y of peers) if (x !== y) await pass(x, y) }

it('c undoes its winning write of a three-way race: a7 and b7 still compete, b7 shown, on every peer', async () => {
  const peers = await team(['a', 'b', 'c'])
  const [a, b, c] = peers as [Node, Node, Node]
  // Each write made before any reached the others, each later than the one before (ms times).
  for (const [n, t] of [[a, 'a7'], [b, 'b7'], [c, 'c7']] as const) {
    await n.edit(titled(t))
    await idle(n.s)
    await new Promise((r) => setTimeout(r, 30))
  }
  await everyone(peers)
  for (const n of peers) {
    expect(await n.file()).toBe(titled('c7'))
    expect(n.s.conflicts().map((x) => x.values.map((v) => v.value).sort())).toEqual([['a7', 'b7', 'c7']])
  }
  // `ctxsync undo` of c's change, as undoChange writes it: the intent naming the text, then the save.
  await c.s.versions!.flushed()
  const mine = (await historyOf(versionsDirOf(c.root), { doc: TODOS })).find((e) => e.authors.some((x) => x.name === 'c'))!
  const back = titled('second')
  await leaveIntent(path.join(spacePaths(c.root).state, 'versions'), TODOS, { h: textHash(back), via: 'undo', of: mine.id, ofHash: textHash(titled('c7')), at: Date.now() })
  await c.edit(back)
  await everyone(peers)
  for (const n of peers) {
    expect({ peer: peers.indexOf(n), file: await n.file() }).toEqual({ peer: peers.indexOf(n), file: titled('b7') })
    expect(n.s.conflicts().map((x) => x.values.map((v) => `${v.value} ${v.author.name}`).sort())).toEqual([['a7 a', 'b7 b']])
  }
  for (const n of peers) await n.close()
})

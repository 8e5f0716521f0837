/**
 * Conflicts through the Space's public API, in process: a value two peers set concurrently is listed on
 * both (`conflicts()`), a resolution (`resolve`) is durable once it resolves — a kill right after and a
 * restart do not bring the conflict back — and it syncs: the other peer's list empties and the files match.
 */
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DocName } from '../../src/ids.js'
import { idle, joinCode, Node, removeSpaceDirs, TODOS } from './harness.js'

afterAll(removeSpaceDirs)

const SEED = `todos:
  - id: t0
    title: first
    status: todo
`

function lacks(theirs: Uint8Array, mine: Uint8Array): boolean {
  const t = Y.decodeStateVector(theirs)
  return [...Y.decodeStateVector(mine)].some(([c, k]) => k > (t.get(c) ?? 0))
}

async function exchange(a: Node, b: Node, doc: DocName = TODOS): Promise<void> {
  for (const [from, to] of [[a, b], [b, a], [a, b]] as const) {
    const theirs = to.host().stateVector(doc)
    if (!lacks(theirs, from.host().stateVector(doc))) continue
    await to.s.applyRemote(doc, from.host().encodeDiff(doc, theirs)!, from.id)
    await idle(to.s)
  }
}

describe('conflicts', () => {
  for (const kill of [false, true]) {
    it(`a concurrent value is listed on both peers; its resolution is durable${kill ? ' (killed right after resolve)' : ''} and syncs`, async () => {
      const a = await Node.make({ name: 'a', files: { [TODOS]: SEED } })
      const b = await Node.make({ name: 'b', join: await joinCode(a.root) })
      await a.start()
      await b.start()
      await exchange(a, b)
      expect(await b.file()).toBe(SEED)

      await a.edit(SEED.replace('title: first', 'title: from A'))
      await b.edit(SEED.replace('title: first', 'title: from B'))
      await idle(a.s)
      await idle(b.s)
      await exchange(a, b)
      expect(await a.file()).toBe(await b.file())
      const [ca, cb] = [a.s.conflicts(), b.s.conflicts()]
      expect(ca).toHaveLength(1)
      expect(cb.map((c) => c.id)).toEqual(ca.map((c) => c.id))
      const c = cb[0]!
      expect(c.values.map((v) => v.value).sort()).toEqual(['from A', 'from B'])

      // B takes the value that does not show now.
      const other = c.winner === 1 ? 2 : 1
      const chosen = c.values[other - 1]!.value as string
      await b.s.resolve(c.id, other)
      if (kill) {
        await b.kill()
        await b.start()
      } else await idle(b.s)
      expect(b.s.conflicts()).toEqual([])
      expect(await b.file()).toBe(SEED.replace('title: first', `title: ${chosen}`))

      await exchange(a, b)
      expect(a.s.conflicts()).toEqual([])
      expect(await a.file()).toBe(await b.file())
      // And it stays resolved across a restart of both.
      await a.close()
      await b.close()
      await a.start()
      await b.start()
      expect(a.s.conflicts()).toEqual([])
      expect(b.s.conflicts()).toEqual([])
      await a.close()
      await b.close()
    })
  }
})

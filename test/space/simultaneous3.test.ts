/**
 * Three live peers change one value at about the same time (bench/simultaneous.mjs --peers 3 --mode same:
 * 'record-missing-value', 5 of 60 trials idle after 9784f63, 3 of 40 under load before it). b and c write
 * first (their race is recorded where they meet); a's save, made from the text before both, is taken in
 * after both peers' updates reached a, so it races both. Every value written must stay in the record.
 *
 * It failed before 9784f63 as after (one of b's and c's values was missing either way): the racing save's
 * edit superseded b and c's race record, both writes being held here though the save had seen neither, so
 * the value the file did not show was listed nowhere. A stale save now supersedes only what its base had
 * seen (`supersede`'s `seen`).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, expect, it, vi } from 'vitest'
import { sha256hex } from '../../src/ids.js'
import { idle, joinCode, Node, removeSpaceDirs, SEED, TODOS, writeFile } from './harness.js'

afterAll(removeSpaceDirs)
afterEach(() => void vi.useRealTimers())

async function trio(): Promise<Node[]> {
  const a = await Node.make({ name: 'a', files: { [TODOS]: SEED } })
  const code = await joinCode(a.root)
  const b = await Node.make({ name: 'b', join: code })
  const c = await Node.make({ name: 'c', join: code })
  await a.start()
  for (const n of [b, c]) {
    await n.start()
    await exchange(a, n)
  }
  return [a, b, c]
}

async function exchange(from: Node, to: Node): Promise<void> {
  await to.s.applyRemote(TODOS, from.host().encodeDiff(TODOS, to.host().stateVector(TODOS))!, from.id)
  await idle(to.s)
}

async function save(n: Node, text: string, mtimeMs: number): Promise<void> {
  await writeFile(n.root, TODOS, text)
  await fs.utimes(path.join(n.root, TODOS), mtimeMs / 1000, mtimeMs / 1000)
}

const titled = (t: string) => SEED.replace('title: second\n', `title: ${t}\n`)

it('b and c write one title at once, a 30 ms later from the text before both, taken in after both reached it: all three values in the record on every peer', async () => {
  const [a, b, c] = (await trio()) as [Node, Node, Node]
  vi.useFakeTimers({ toFake: ['Date'] })
  const t0 = Date.now() + 1000
  vi.setSystemTime(t0)
  const texts = { a: titled('second by a'), b: titled('second by b'), c: titled('second by c') }
  await save(b, texts.b, t0 - 40)
  await save(c, texts.c, t0 - 40)
  await save(a, texts.a, t0 - 10)
  for (const [n, t] of [[b, texts.b], [c, texts.c]] as const) {
    await n.s.onLocalFile(TODOS, t, sha256hex(t), t0 - 40)
    await idle(n.s)
  }
  await exchange(b, c)
  await exchange(c, b)
  // Both updates reach a before its save is taken in: its write-back finds the save, a race with both.
  await a.s.applyRemote(TODOS, b.host().encodeDiff(TODOS, a.host().stateVector(TODOS))!, b.id)
  await a.s.applyRemote(TODOS, c.host().encodeDiff(TODOS, a.host().stateVector(TODOS))!, c.id)
  await a.s.onLocalFile(TODOS, texts.a, sha256hex(texts.a), t0 - 10)
  await idle(a.s)
  await allThreeRecorded(a, b, c)
})

/**
 * The same race where Yjs kept the earlier of b's and c's writes (the higher client id wins a register): a's
 * daemon, holding both, writes the later again (a later-wins copy, `heads.ts`), and a's racing save is taken
 * in over that copy (bench/simultaneous.mjs --peers 3 --gap 60, seed 6 trial 10). The save's record named the
 * value it overwrote by the copy's item, credited to a; the save's item, written over the copy, had Yjs's
 * earlier write among its origins, so that value was superseded: listed nowhere, on every peer.
 */
it('b and c write at once and Yjs keeps the earlier; a copies the later, then its save made before both is taken in: all three values in the record, each its writer\'s', async () => {
  const [a, b, c] = (await trio()) as [Node, Node, Node]
  vi.useFakeTimers({ toFake: ['Date'] })
  const t0 = Date.now() + 1000
  vi.setSystemTime(t0)
  const client = (n: Node) => n.s.doc(TODOS).model.doc.clientID
  // The lower client id loses Yjs's pick: its write is made the later one, so the peers copy it.
  const [lo, hi] = client(b) < client(c) ? [b, c] : [c, b]
  const texts = new Map([[a, titled('second by a')], [b, titled('second by b')], [c, titled('second by c')]])
  const at = new Map([[hi, t0 - 60], [lo, t0 - 40], [a, t0 - 10]])
  for (const n of [a, b, c]) await save(n, texts.get(n)!, at.get(n)!)
  for (const n of [hi, lo]) {
    await n.s.onLocalFile(TODOS, texts.get(n)!, sha256hex(texts.get(n)!), at.get(n)!)
    await idle(n.s)
  }
  // Both updates reach a first: a copies lo's value over hi's, then finds its own save.
  await a.s.applyRemote(TODOS, hi.host().encodeDiff(TODOS, a.host().stateVector(TODOS))!, hi.id)
  await a.s.applyRemote(TODOS, lo.host().encodeDiff(TODOS, a.host().stateVector(TODOS))!, lo.id)
  await idle(a.s)
  await a.s.onLocalFile(TODOS, texts.get(a)!, sha256hex(texts.get(a)!), at.get(a)!)
  await idle(a.s)
  await allThreeRecorded(a, b, c)
})

/**
 * Everything exchanged both ways: identical files showing a's later save, one record on every peer with all
 * three values, each its writer's (a later-wins copy is credited to the original write, not the copier).
 */
async function allThreeRecorded(a: Node, b: Node, c: Node): Promise<void> {
  for (let round = 0; round < 2; round++) for (const x of [a, b, c]) for (const y of [a, b, c]) if (x !== y) await exchange(x, y)
  const shown = await a.file()
  for (const n of [b, c]) expect(await n.file()).toBe(shown)
  expect(shown).toContain('title: second by a\n')
  for (const n of [a, b, c]) {
    const cs = n.s.doc(TODOS).model.conflicts()
    expect(cs).toHaveLength(1)
    expect(cs[0]!.values.map((v) => v.value).sort()).toEqual(['second by a', 'second by b', 'second by c'])
    for (const v of cs[0]!.values) expect(v.author.name, String(v.value)).toBe(String(v.value).slice(-1))
  }
  await Promise.all([a.close(), b.close(), c.close()])
}

/**
 * Found by the network-faults ring (seed 880341: a peer re-authored another's value, one peer's values were
 * recorded as concurrent). A save taken in late (timed by its mtime) that raced a peer's later write: the
 * file gets the peer's value (the later write shows, crdt/heads.ts), and the next save must be diffed
 * against that text, not the one rendered before the race was settled.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { idle, pass, removeSpaceDirs, team, TODOS, type Node } from './harness.js'

afterAll(removeSpaceDirs)

const status = (text: string, v: string) => text.replace(/(- id: t0\n    title: [^\n]*\n    status: )[^\n]*/, `$1${v}`)
const title1 = (text: string, v: string) => text.replace(/(- id: t1\n    title: )[^\n]*/, `$1${v}`)
const listed = (n: Node) => n.s.conflicts().flatMap((c) => c.values.map((v) => `${c.display} ${v.raw} — ${v.author.name}`))

/** a's late save of t0's status (a-1) lost the race to b's later b-1, which a's file shows; b then writes b-2. */
async function raced(): Promise<{ a: Node; b: Node; shown: string }> {
  const [a, b] = (await team(['a', 'b'])) as [Node, Node]
  const abs = path.join(a.root, TODOS)
  fs.writeFileSync(abs, status(fs.readFileSync(abs, 'utf8'), 'a-1'))
  const t = new Date(Date.now() - 300)
  fs.utimesSync(abs, t, t)
  await b.edit(status((await b.file())!, 'b-1'))
  await idle(b.s)
  await pass(b, a)
  const shown = (await a.file())!
  expect(shown).toMatch(/status: b-1/)
  await b.edit(status((await b.file())!, 'b-2'))
  await idle(b.s)
  return { a, b, shown }
}

describe('a late save that lost its race', () => {
  it('the next save, made from the file, writes nothing of the value it left alone', async () => {
    const { a, b, shown } = await raced()
    // a's editor retitles t1 in the file it shows; b-2 arrives before a's daemon looks at the save.
    fs.writeFileSync(path.join(a.root, TODOS), title1(shown, 'retitled by a'))
    await pass(b, a)
    await pass(a, b)
    expect(await a.file()).toMatch(/status: b-2/)
    expect(await b.file()).toBe(await a.file())
    // Before: a's save re-wrote b-1 as a's value over b-2 ('b-1 — a', 'b-2 — a').
    for (const line of listed(a)) expect(line).toMatch(/ a-1 — a$| b-\d — b$/)
  })

  // Open (crdt/heads.ts, stalesave.ts): the stale save's record keys its values by `s`-prefixed ids, which
  // no origin chain supersedes, so b's b-1 stays a live competitor after b itself wrote b-2 over it, and the
  // conflict lists b against b (the ring's "p4 rev 21 / p4 rev 23"). Flip to `it` when fixed.
  it.fails('a peer\'s later value supersedes its earlier one in the record of a stale save', async () => {
    const { a, b } = await raced()
    await pass(b, a)
    await pass(a, b)
    expect(listed(a)).toEqual(['todos[id=t0].status a-1 — a', 'todos[id=t0].status b-2 — b'])
  })
})

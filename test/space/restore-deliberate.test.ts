/**
 * `restore` and `undo` write a whole file on purpose: the text they leave is what the person asked for,
 * not an editor buffer made from an older version. With a daemon running, the write reaches the model the
 * way any save does; read as a stale save (a restored text reads just like an old buffer), the peers'
 * changes since stayed and the file was not what `--to` named (black-box tester, issue 16). The intent they
 * leave (space/versions/intent.ts) marks the text as deliberate: it is diffed against the file's last text.
 */
import { afterAll, expect, it } from 'vitest'
import { sha256hex } from '../../src/ids.js'
import { leaveIntent } from '../../src/space/versions/intent.js'
import { versionsDirOf } from '../../src/space/versions/index.js'
import { idle, removeSpaceDirs, SEED, seededPair, TODOS } from './harness.js'
import { exchange } from './joinRig.js'

afterAll(removeSpaceDirs)

const item = (i: number) => `  - id: n${i}\n    title: added by a, ${i}\n    status: todo\n`

async function peerAddsItems(n: number) {
  const { a, b } = await seededPair()
  let text = SEED
  for (let i = 1; i <= n; i++) {
    text += item(i)
    await a.edit(text)
    await idle(a.s)
    await exchange(a, b)
  }
  expect(await b.file()).toBe(text)
  return { a, b }
}

it('a restore to an older text, written while the space runs, makes the file that text on both peers', async () => {
  const { a, b } = await peerAddsItems(5)
  const restored = SEED.replace('title: first', 'title: first (as committed)')
  await leaveIntent(versionsDirOf(b.root), TODOS, { h: sha256hex(restored).slice(0, 16), via: 'restore', at: Date.now() })
  await b.edit(restored)
  await idle(b.s)
  await exchange(b, a)
  expect(await b.file()).toBe(restored)
  expect(await a.file()).toBe(restored)
  for (const n of [a, b]) await n.close()
})

it('the same text saved without an intent is still read as a stale buffer: the peer\'s items stay', async () => {
  const { a, b } = await peerAddsItems(5)
  const stale = SEED.replace('title: first', 'title: first (edited in an old buffer)')
  await b.edit(stale)
  await idle(b.s)
  await exchange(b, a)
  const end = await b.file()
  expect(await a.file()).toBe(end)
  expect(end).toContain('first (edited in an old buffer)')
  for (let i = 1; i <= 5; i++) expect(end).toContain(`id: n${i}\n`)
  for (const n of [a, b]) await n.close()
})

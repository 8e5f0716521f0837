/**
 * The peer book forgets a peer not seen for 30 days (issue 17: every one-shot clone, e.g. each CI run's,
 * stayed in `ctxsync peers` for good); one seen since, or never dated, stays. `prune` (`peers --prune DAYS`)
 * forgets sooner, never a peer connected now.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { FORGET_AFTER_MS, PeerBook } from '../../src/space/summary.js'

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))))

it('a peer not seen for 30 days leaves the book; the others stay', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-book-'))
  dirs.push(dir)
  const file = path.join(dir, 'peers.json')
  const now = Date.parse('2026-12-06T12:00:00Z')
  const at = (ms: number) => new Date(now - ms).toISOString()
  await fs.writeFile(file, JSON.stringify({ peers: [
    { id: 'p-old', name: 'ci-clone', kind: 'agent', lastSeen: at(FORGET_AFTER_MS + 60_000), connected: false },
    { id: 'p-recent', name: 'bob', kind: 'human', lastSeen: at(FORGET_AFTER_MS - 60_000), connected: true },
    { id: 'p-undated', name: 'carol', kind: 'human', lastSeen: null, connected: false },
  ] }))
  const book = await new PeerBook(file).load(now)
  expect(book.list().map((p) => p.name)).toEqual(['bob', 'carol'])
  expect(book.list().every((p) => !p.connected)).toBe(true)
})

it('prune forgets peers unseen for the given age, never one connected now nor one undated, and names those load left out', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-book-'))
  dirs.push(dir)
  const file = path.join(dir, 'peers.json')
  const now = Date.parse('2026-12-06T12:00:00Z')
  const day = 86_400_000
  const at = (ms: number) => new Date(now - ms).toISOString()
  await fs.writeFile(file, JSON.stringify({ peers: [
    { id: 'p-ancient', name: 'ci-1', kind: 'agent', lastSeen: at(FORGET_AFTER_MS + day), connected: false },
    { id: 'p-week', name: 'ci-2', kind: 'agent', lastSeen: at(8 * day), connected: false },
    { id: 'p-live', name: 'bob', kind: 'human', lastSeen: at(9 * day), connected: false },
    { id: 'p-today', name: 'ann', kind: 'human', lastSeen: at(3600_000), connected: false },
    { id: 'p-undated', name: 'carol', kind: 'human', lastSeen: null, connected: false },
  ] }))
  const book = await new PeerBook(file).load(now)
  // bob has been connected for 9 days: his lastSeen dates from his connect, and he stays.
  const gone = book.prune(7 * day, new Set(['p-live']), now)
  expect(gone.map((p) => p.name)).toEqual(['ci-1', 'ci-2'])
  expect(book.list().map((p) => p.name)).toEqual(['ann', 'bob', 'carol'])
  await book.save()
  const saved = JSON.parse(await fs.readFile(file, 'utf8')).peers.map((p: { name: string }) => p.name)
  expect(saved).toEqual(['ann', 'bob', 'carol'])
  // Nothing left that old: nothing forgotten, and ci-1 (left out at load) is not named twice.
  expect(book.prune(7 * day, new Set(['p-live']), now)).toEqual([])
})

it('a peer connected now was last seen now, not when it connected (peers --json, issue 17 tester)', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-book-'))
  dirs.push(dir)
  const file = path.join(dir, 'peers.json')
  const book = await new PeerBook(file).load()
  const connectedAt = '2026-12-06T16:25:00.000Z'
  book.seen({ id: 'p-bob', name: 'bob', kind: 'human', connected: true, lastSeen: connectedAt })
  book.seen({ id: 'p-ann', name: 'ann', kind: 'human', connected: false, lastSeen: connectedAt })
  const now = Date.parse('2026-12-06T16:50:00Z')
  expect(book.view(new Set(['p-bob']), now)).toEqual([
    expect.objectContaining({ name: 'ann', connected: false, lastSeen: connectedAt }),
    expect.objectContaining({ name: 'bob', connected: true, lastSeen: '2026-12-06T16:50:00.000Z' }),
  ])
  await book.save()
})

/**
 * The peer book forgets a peer not seen for 30 days (issue 17: every one-shot clone, e.g. each CI run's,
 * stayed in `ctxsync peers` for good); one seen since, or never dated, stays.
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

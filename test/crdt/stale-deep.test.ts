/**
 * Stale saves from buffers older than the recent ring (`recent.ts` keeps MAX_RECENT texts with their IR):
 * black-box tester finding 3 (issue 13). A buffer read before more than 8 rewrites was diffed against a
 * newer text than it was made from, and read as undoing what peers did between. The texts before the ring
 * are kept as deltas (`recentolder.ts`) and such a save is diffed against its real base.
 */
import fs from 'node:fs'
import path from 'node:path'
import { expect, test } from 'vitest'
import { send } from './helpers.js'
import { newPair, runStale } from './stalesave-gen.js'

const todos = (n: number) =>
  'todos:\n' + Array.from({ length: n }, (_, i) => `  - id: T-${i + 1}\n    title: Task ${i + 1}\n    status: todo\n`).join('')

/** B saves `text`; A's daemon writes it into A's file. */
function peerSaves(A: ReturnType<typeof newPair>[0], B: ReturnType<typeof newPair>[1], text: string): void {
  expect(B.ingest(text).text).toBe(text)
  send(B, A)
  A.setBase(A.render())
}

test.each([9, 12, 30, 60])('a buffer %i peer writes old, saved with one change: every peer edit kept, the change in', (k) => {
  const r1 = todos(64)
  const [A, B] = newPair(r1)
  let now = r1
  for (let i = 1; i <= k; i++) {
    now = now.replace(`title: Task ${i}\n`, `title: Task ${i} (bob ${i})\n`)
    peerSaves(A, B, now)
  }
  const mine = r1.replace('title: Task 64\n', 'title: Task 64 (ann)\n')
  const out = A.ingest(mine)
  const want = now.replace('title: Task 64\n', 'title: Task 64 (ann)\n')
  expect(out.text).toBe(want)
  expect(out.stale?.kept).toBeGreaterThan(0)
  send(A, B)
  expect(B.render().text).toBe(want)
  expect(A.conflicts()).toEqual([])
})

test('a buffer 12 peer writes old that changes a value the peer changed too: the save shows, the peer value recorded', () => {
  const r1 = todos(20)
  const [A, B] = newPair(r1)
  // The peer's note beside its title tells the save was made before it (a tie would read it as made after).
  let now = r1.replace('title: Task 1\n', 'title: Task 1 by bob\n    notes: see the thread\n')
  peerSaves(A, B, now)
  for (let i = 2; i <= 12; i++) {
    now = now.replace(`title: Task ${i}\n`, `title: Task ${i} (bob)\n`)
    peerSaves(A, B, now)
  }
  const out = A.ingest(r1.replace('title: Task 1\n', 'title: Task 1 by ann\n'))
  expect(out.stale?.overwritten).toBe(1)
  expect(out.text).toContain('title: Task 1 by ann')
  expect(out.text).toContain('title: Task 12 (bob)')
  expect(JSON.stringify(A.conflicts())).toContain('Task 1 by bob')
})

// An older buffer that sets values back to what an earlier text had is nearer that text than its own base; that
// text lacks a line the buffer holds from later, so it is no base, and neither was any other: read as an edit of
// the newest, the save took back every peer edit since (stale-deep seed 975442: a restyle made twice).
test("a buffer 12 peer writes old that sets a reopened todo back as it was: the peer's edits since are kept", () => {
  const r1 = todos(20).replace('title: Task 1\n    status: todo\n', 'title: Task 1\n    status: done\n    assignee: ann\n')
  const [A, B] = newPair(r1)
  let now = r1.replace('status: done\n    assignee: ann\n', 'status: todo\n    assignee: bob\n')
  peerSaves(A, B, now)
  peerSaves(A, B, (now = now.replace('title: Task 20\n', 'title: Task 20 (bob)\n')))
  const buffer = now
  for (let i = 2; i <= 12; i++) peerSaves(A, B, (now = now.replace(`title: Task ${i}\n`, `title: Task ${i} (bob)\n`)))
  const out = A.ingest(buffer.replace('status: todo\n    assignee: bob\n', 'status: done\n    assignee: ann\n'))
  const want = now.replace('status: todo\n    assignee: bob\n', 'status: done\n    assignee: ann\n')
  expect(out.text).toBe(want)
  send(A, B)
  expect(B.render().text).toBe(want)
  expect(A.conflicts()).toEqual([])
})

test('a save that is exactly a text from before the ring is a deliberate revert: taken as made from the newest', () => {
  const r1 = todos(20)
  const [A, B] = newPair(r1)
  let now = r1
  for (let i = 1; i <= 12; i++) {
    now = now.replace(`title: Task ${i}\n`, `title: Task ${i} (bob)\n`)
    peerSaves(A, B, now)
  }
  const out = A.ingest(r1)
  expect(out.text).toBe(r1)
  expect(out.stale).toBeUndefined()
})

const SEED = Number(process.env.CTXSYNC_STALE_SEED) || (process.env.CI ? 1 : Date.now() % 1_000_000)
const DEEP = Number(process.env.CTXSYNC_STALE_DEEP_CASES) || 20

test(`${DEEP} seeded stale saves from buffers 9 to 60 peer writes old: merged line-wise like the others (seed ${SEED})`, async () => {
  const run = await runStale(SEED, DEEP, 'deep')
  console.log(`deep stale saves (CTXSYNC_STALE_SEED=${SEED}): outcomes ${JSON.stringify(run.outcomes)}; failed ${JSON.stringify(run.failed)}`)
  if (process.env.CTXSYNC_STALE_DUMP) {
    fs.mkdirSync(process.env.CTXSYNC_STALE_DUMP, { recursive: true })
    run.failures.forEach((f, i) => fs.writeFileSync(path.join(process.env.CTXSYNC_STALE_DUMP!, `deep-${i}.json`), JSON.stringify(f, null, 1)))
  }
  expect(run.failures.map((f) => f.what), `CTXSYNC_STALE_SEED=${SEED}`).toEqual([])
  expect(run.outcomes.merged).toBeGreaterThan(DEEP / 4)
}, Math.max(300_000, DEEP * 2_000))

const BOM = Number(process.env.CTXSYNC_STALE_BOM_CASES) || 40

// Was opt-in: at 5802f7d, seed 1, 200 cases: 12 failed (3 'BOM: not as the side that changed it', 4 'same value:
// mine not shown', 3 'merge differs', 1 lost comment, 1 move); the BOM is merged apart from the head's lines since
// (trivia.ts), and, since a BOM before the first key is no column (srclines.ts lineStartOf, render.ts Out), seeds
// 1-4 × 200 pass whole (10 failed at seed 1 before, all on the one fixture that starts with a key).
test(`${BOM} seeded stale saves that also add or remove a BOM on one side (seed ${SEED}): converge, the BOM as the side that changed it has it`, async () => {
  const run = await runStale(SEED, BOM, 'bom')
  console.log(`bom stale saves (CTXSYNC_STALE_SEED=${SEED}): outcomes ${JSON.stringify(run.outcomes)}; failed ${JSON.stringify(run.failed)}`)
  if (process.env.CTXSYNC_STALE_DUMP) {
    fs.mkdirSync(process.env.CTXSYNC_STALE_DUMP, { recursive: true })
    run.failures.forEach((f, i) => fs.writeFileSync(path.join(process.env.CTXSYNC_STALE_DUMP!, `bom-${i}.json`), JSON.stringify(f, null, 1)))
  }
  expect(run.failures.map((f) => f.what), `CTXSYNC_STALE_SEED=${SEED}`).toEqual([])
}, Math.max(300_000, BOM * 250))

/**
 * Conflicts people understand (issue 13 item 6), proven by the seeded schedule generator in
 * `conflict-gen.ts`: 2–4 directly connected peers overwrite the same and different fields, updates arrive in
 * random order, peers drop off and come back, conflicts are resolved, a stale peer syncs last. After a full
 * exchange every peer renders the same file, shows the latest-written live value of each field, and lists
 * exactly the live competitors (every concurrent loser, nothing superseded, nothing resolved coming back).
 *
 * CI runs CTXSYNC_CONFLICT_SCHEDULES (default 1,000) schedules from CTXSYNC_CONFLICT_SEED (default 1) plus
 * the regression seeds; `node bench/conflicts.mjs` runs 100,000 and prints the figures.
 */
import fs from 'node:fs'
import { describe, expect, test } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { author } from './helpers.js'
import { runSchedule, type Failure } from './conflict-gen.js'
import { mulberry32 } from './mutate.js'

const N = Number(process.env.CTXSYNC_CONFLICT_SCHEDULES ?? 1000)
const BASE = Number(process.env.CTXSYNC_CONFLICT_SEED ?? 1)
const REGRESSIONS = Object.keys(
  (JSON.parse(fs.readFileSync(new URL('./regressions/conflict-seeds.json', import.meta.url), 'utf8')) as { seeds: Record<string, string> }).seeds,
).map(Number)

describe('conflicts: the later edit wins, records list the live competitors', () => {
  test('regression seeds', () => {
    // Found when a schedule took 10 + 0..29 steps: replayed with that length.
    for (const seed of REGRESSIONS) {
      const r = mulberry32(seed)
      r()
      expect(runSchedule(seed, { steps: 10 + Math.floor(r() * 30) }).failure, `seed ${seed}`).toBeNull()
    }
  })

  test(`${N} seeded schedules from seed ${BASE}`, async () => {
    const failures: Failure[] = []
    const tried = { schedules: 0, writes: 0, resolves: 0, conflicts: 0 }
    for (let seed = BASE; seed < BASE + N; seed++) {
      const r = runSchedule(seed)
      tried.schedules++
      tried.writes += r.writes
      tried.resolves += r.resolves
      tried.conflicts += r.conflicts
      if (r.failure) failures.push(r.failure)
      // Let the worker answer the runner now and then (a long synchronous loop times its RPC out).
      if (seed % 25 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    const byKind: Record<string, number[]> = {}
    for (const f of failures) (byKind[f.kind] ??= []).push(f.seed)
    console.log(`conflict schedules (CTXSYNC_CONFLICT_SEED=${BASE}): tried ${JSON.stringify(tried)}; failed ${JSON.stringify(byKind)}`)
    expect(failures[0]?.detail ?? null, failures[0] ? `seed ${failures[0].seed}` : '').toBeNull()
  }, 900_000)
})

describe('later wins, examples', () => {
  const TEXT = 'todos:\n  - id: t0\n    title: first\n'
  const make = (name: string, clientId: number, at: { t: number }) => {
    const m = new FileModel({ name: 'todos.yaml', author: author(name), clientId, now: () => at.t })
    m.load([FileModel.enrollment('todos.yaml', TEXT)])
    m.setBase(m.render())
    return m
  }
  const send = (a: FileModel, b: FileModel) => b.applyRemote(a.encodeDiff(b.stateVector()), a.name)

  for (const order of ['earlier first', 'later first'] as const) {
    test(`the later write wins whatever the client ids and delivery order (${order}), the earlier stays in the record`, () => {
      const clock = { t: 1_700_000_000 }
      // The high client id writes first: Yjs alone would keep its value.
      const hi = make('hi', 900_000, clock)
      const lo = make('lo', 100, clock)
      hi.ingest(TEXT.replace('first', 'early'))
      clock.t += 0.25
      lo.ingest(TEXT.replace('first', 'late'))
      if (order === 'earlier first') send(hi, lo), send(lo, hi)
      else send(lo, hi), send(hi, lo)
      send(hi, lo), send(lo, hi)
      for (const m of [hi, lo]) {
        expect(m.render().text).toBe(TEXT.replace('first', 'late'))
        const [c] = m.conflicts()
        expect(c!.values.map((v) => v.value)).toEqual(['early', 'late'])
        expect(c!.winner).toBe(2)
        expect(c!.values.map((v) => v.author.name)).toEqual(['hi', 'lo'])
      }
      expect(JSON.stringify(hi.conflicts())).toBe(JSON.stringify(lo.conflicts()))
    })
  }

  test('a resolved conflict stays resolved when a stale peer that saw the race syncs later', () => {
    const clock = { t: 1_700_000_000 }
    const a = make('a', 11, clock)
    const b = make('b', 22, clock)
    const stale = make('stale', 33, clock)
    a.ingest(TEXT.replace('first', 'from a'))
    clock.t += 1
    b.ingest(TEXT.replace('first', 'from b'))
    // The stale peer sees the race in the other order, then goes away.
    send(b, stale), send(a, stale)
    send(a, b), send(b, a)
    expect(a.conflicts()).toHaveLength(1)
    a.resolve(a.conflicts()[0]!.id, 1)
    send(a, b)
    expect(b.conflicts()).toEqual([])
    for (const [x, y] of [[stale, a], [stale, b], [a, stale], [b, stale], [stale, a]] as const) send(x, y)
    for (const m of [a, b, stale]) {
      expect(m.conflicts()).toEqual([])
      expect(m.render().text).toBe(TEXT.replace('first', 'from a'))
    }
  })
})

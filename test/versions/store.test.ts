/**
 * The version store's format and policy (src/space/versions/): texts read back exactly through deltas,
 * keyframes and a rewrite; a frame cut short by a crash loses only itself; the staggered policy keeps every
 * version of the last day, one per hour, then one per day, and hands dropped versions' authors on.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { decode, Encoder, frame, logFile, readVersionsOf, type By } from '../../src/space/versions/store.js'
import { rewrite } from '../../src/space/versions/compact.js'
import { DEFAULT_POLICY, fitBudget, readPolicy, thin } from '../../src/space/versions/policy.js'
import { diffFlat, flatten } from '../../src/space/versions/fields.js'
import { parseTime } from '../../src/space/versions/when.js'

const me: By = ['p-1', 'ada', 'human']
const texts = Array.from({ length: 150 }, (_, i) => `todos:\n${Array.from({ length: 20 }, (_, k) => `  - id: T-${k}\n    status: s${(i * (k + 1)) % 7}\n`).join('')}`)

describe('version store', () => {
  it('reads back every text through deltas, keyframes and a rewrite; a torn last frame loses only itself', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-vstore-'))
    const enc = new Encoder()
    const bufs = texts.map((text, i) => frame([enc.record({ t: 1000 + i, by: [me], via: 'local', text })]))
    fs.writeFileSync(logFile(dir, 'a/b.yaml'), Buffer.concat(bufs))
    const back = await readVersionsOf(dir, 'a/b.yaml')
    expect(back.map((v) => v.text)).toEqual(texts)
    expect(new Set(back.map((v) => v.id)).size).toBe(texts.length)
    // torn: half of a last frame
    const extra = frame([enc.record({ t: 5000, by: [me], via: 'local', text: 'x: 1\n' })])
    const torn = decode('a/b.yaml', Buffer.concat([...bufs, extra.subarray(0, extra.length - 3)]))
    expect(torn.versions.at(-1)!.text).toBe(texts.at(-1))
    await rewrite(dir, 'a/b.yaml', back)
    const again = await readVersionsOf(dir, 'a/b.yaml')
    expect(again.map((v) => [v.id, v.text])).toEqual(back.map((v) => [v.id, v.text]))
  })

  it("keeps a carried change's credit (when its writer wrote it, who kept it) through a read and a rewrite", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-vstore-'))
    const enc = new Encoder()
    const carl: By = ['git:carl@example.invalid', 'carl', 'human']
    const recs = [
      enc.record({ t: 1000, by: [me], via: 'local', text: 'a: 1\n' }),
      enc.record({ t: 2000, by: [carl], via: 'git', at: 500_000, text: 'a: 2\n' }),
      enc.record({ t: 3000, by: [carl], via: 'resolve', at: 600_000, kept: me, text: 'a: 3\n' }),
    ]
    fs.writeFileSync(logFile(dir, 'c.yaml'), frame(recs))
    const meta = (vs: Array<{ via: string; at?: number; kept?: By }>) => vs.map((v) => [v.via, v.at, v.kept])
    const want = [['local', undefined, undefined], ['git', 500_000, undefined], ['resolve', 600_000, me]]
    const back = await readVersionsOf(dir, 'c.yaml')
    expect(meta(back)).toEqual(want)
    await rewrite(dir, 'c.yaml', back)
    expect(meta(await readVersionsOf(dir, 'c.yaml'))).toEqual(want)
  })

  it('thins: every version of the last day, the last of each hour for 30 days, then of each day', () => {
    const H = 3_600_000
    const now = 100 * 24 * H
    const vs = Array.from({ length: 100 * 24 * 4 }, (_, i) => ({ id: String(i), h: '', doc: 'd', text: String(i), t: i * (H / 4), by: [[`p-${i % 2}`, `n${i % 2}`, 'human']] as By[], via: 'local' as const }))
    const kept = thin(vs, now, DEFAULT_POLICY)
    const age = (v: { t: number }) => now - v.t
    expect(kept.filter((v) => age(v) <= 24 * H).length).toBe(vs.filter((v) => age(v) <= 24 * H).length)
    const hourly = kept.filter((v) => age(v) > 24 * H && age(v) <= 31 * 24 * H)
    expect(hourly.length).toBeGreaterThanOrEqual(29 * 24)
    expect(hourly.length).toBeLessThanOrEqual(30 * 24 + 1)
    expect(kept.filter((v) => age(v) > 31 * 24 * H).length).toBeLessThanOrEqual(70)
    expect(kept.at(-1)).toBe(vs.at(-1))
    // a dropped version's author is not forgotten
    expect(hourly[5]!.by.map((b) => b[0]).sort()).toEqual(['p-0', 'p-1'])
  })

  it('reads the policy from ctxsync.yaml (history:), the default for what it does not say or says wrong', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-policy-'))
    const cfg = path.join(dir, 'ctxsync.yaml')
    const read = async (text: string | null) => {
      if (text === null) fs.rmSync(cfg, { force: true })
      else fs.writeFileSync(cfg, text)
      const warned: string[] = []
      return { p: await readPolicy(cfg, (m) => warned.push(m)), warned }
    }
    const H = 3_600_000
    const D = 24 * H
    expect(await read(null)).toEqual({ p: DEFAULT_POLICY, warned: [] })
    expect(await read('space: abc\n')).toEqual({ p: DEFAULT_POLICY, warned: [] })
    expect(await read('history:\n')).toEqual({ p: DEFAULT_POLICY, warned: [] })
    expect(await read('history: [\n')).toEqual({ p: DEFAULT_POLICY, warned: [] })
    expect((await read('history:\n  all: 2h\n  hourly: 1w\n  daily: forever\n  max-size: 512KiB\n')).p).toEqual({ allMs: 2 * H, hourlyMs: 7 * D, dailyMs: Infinity, maxBytes: 512 * 1024 })
    // Bare numbers: days for a time, bytes for a size; a unit it does not know is said, and the default kept.
    expect((await read('history:\n  all: 3\n  max-size: 1000\n')).p).toEqual({ ...DEFAULT_POLICY, allMs: 3 * D, maxBytes: 1000 })
    expect((await read('history:\n  all: 1.5d\n  max-size: 2 MB\n')).p).toEqual({ ...DEFAULT_POLICY, allMs: 1.5 * D, maxBytes: 2e6 })
    const bad = await read('history:\n  all: soon\n  hourly: 3y\n  max-size: lots\n')
    expect(bad.p).toEqual(DEFAULT_POLICY)
    expect(bad.warned).toEqual([
      'ctxsync.yaml: history.all: cannot read "soon"; using the default',
      'ctxsync.yaml: history.hourly: cannot read "3y"; using the default',
      'ctxsync.yaml: history.max-size: cannot read "lots"; using the default',
    ])
    // A negative number is no time or size: kept every version for no time at all, and a budget below zero
    // dropped all but the newest.
    const negative = await read('history:\n  all: -1\n  max-size: -5\n')
    expect(negative.p).toEqual(DEFAULT_POLICY)
    expect(negative.warned).toHaveLength(2)
  })

  it('fits the size budget by dropping the oldest versions, never the newest', () => {
    const vs = Array.from({ length: 10 }, (_, i) => ({ id: String(i), h: '', doc: 'd', text: String(i), t: i, by: [me], via: 'local' as const }))
    expect(fitBudget(vs, 100, 100)).toBe(vs)
    expect(fitBudget(vs, 100, Infinity)).toBe(vs)
    // Twice the budget: half go, the oldest first.
    expect(fitBudget(vs, 200, 100).map((v) => v.id)).toEqual(['5', '6', '7', '8', '9'])
    // A little over: at least one goes.
    expect(fitBudget(vs, 101, 100).map((v) => v.id)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9'])
    // No budget at all, or a single version over it: the newest stays.
    expect(fitBudget(vs, 100, 0).map((v) => v.id)).toEqual(['9'])
    expect(fitBudget(vs.slice(0, 1), 1e9, 10)).toEqual(vs.slice(0, 1))
    expect(fitBudget([], 1e9, 10)).toEqual([])
  })

  it('names fields by identity and reports a removed item once', () => {
    const a = flatten('todos:\n  - id: T-3\n    status: open\n  - id: T-4\n    status: open\nscope: {name: x}\n')
    const b = flatten('todos:\n  - id: T-3\n    status: done\nscope: {name: y}\n')
    expect(diffFlat(a, b)).toEqual([
      { path: 'todos[id=T-3].status', kind: 'changed', before: '"open"', after: '"done"' },
      { path: 'todos[id=T-4]', kind: 'removed', before: 'id: "T-4", status: "open"' },
      { path: 'scope.name', kind: 'changed', before: '"x"', after: '"y"' },
    ])
  })

  it('reads times as people type them', () => {
    const now = new Date(2025, 0, 31, 12, 0).getTime()
    expect(parseTime('10m', now)).toBe(now - 600_000)
    expect(parseTime('2h ago', now)).toBe(now - 7_200_000)
    expect(parseTime('yesterday 14:00', now)).toBe(new Date(2025, 0, 30, 14, 0).getTime())
    expect(parseTime('2025-01-02T03:04:05Z', now)).toBe(Date.parse('2025-01-02T03:04:05Z'))
    expect(parseTime('HEAD~1', now)).toBeNull()
    expect(parseTime('abc123', now)).toBeNull()
  })
})

/**
 * Times in human output (issue 17: it printed UTC ISO with milliseconds): relative within a day, else the
 * local date and minute, `2026-01-05 09:07`; `--json` keeps ISO. `when` takes `now` so that this is checked
 * at a fixed instant.
 */
import { afterEach, expect, it } from 'vitest'
import { ago, when } from '../../src/timefmt.js'

const TZ = process.env.TZ
afterEach(() => {
  if (TZ === undefined) delete process.env.TZ
  else process.env.TZ = TZ
})

const at = (y: number, mo: number, d: number, h: number, mi: number, s = 0) => new Date(y, mo - 1, d, h, mi, s).getTime()
const iso = (t: number) => new Date(t).toISOString()

it('older than a day, or in the future: the local date and minute', () => {
  const now = at(2026, 12, 6, 16, 0)
  expect(when(iso(at(2026, 1, 5, 9, 7, 42)), now)).toBe('2026-01-05 09:07')
  expect(when(iso(at(2026, 12, 5, 15, 59)), now)).toBe('2026-12-05 15:59')
  // Exactly a day is no longer "recent"; a second less still is.
  expect(when(iso(now - 86_400_000), now)).toBe('2026-12-05 16:00')
  expect(when(iso(now - 86_399_000), now)).toBe('24h ago')
  // A clock ahead of this one: a date, not "0s ago".
  expect(when(iso(at(2026, 12, 6, 16, 30)), now)).toBe('2026-12-06 16:30')
})

it('the local time of the zone this runs in, not UTC', () => {
  process.env.TZ = 'Asia/Kolkata' // UTC+05:30, no daylight saving
  const now = Date.parse('2026-12-06T16:00:00Z')
  expect(when('2026-01-05T09:07:00.000Z', now)).toBe('2026-01-05 14:37')
  expect(when('2026-12-04T20:00:00.000Z', now)).toBe('2026-12-05 01:30')
  process.env.TZ = 'America/New_York'
  expect(when('2026-01-05T09:07:00.000Z', now)).toBe('2026-01-05 04:07')
})

it('within a day: relative to the given now, not to the clock', () => {
  const now = Date.parse('2026-12-06T16:00:00Z')
  expect(when('2026-12-06T15:59:30.000Z', now)).toBe('30s ago')
  expect(when('2026-12-06T15:55:00.000Z', now)).toBe('5m ago')
  expect(when('2026-12-06T13:00:00.000Z', now)).toBe('3h ago')
  expect(ago('2026-12-06T13:00:00.000Z', now)).toBe('3h ago')
})

it('no time, or one that is not a time', () => {
  expect(when(null)).toBe('never')
  expect(when(undefined)).toBe('never')
  expect(when('yesterday-ish')).toBe('yesterday-ish')
})

it('peer lists say a peer last seen days ago by its local date (status, peers), a recent one relatively', async () => {
  const { formatPeers } = await import('../../src/output.js')
  const old = new Date(Date.now() - 12 * 86_400_000)
  const p = (name: string, lastSeen: string) => ({ id: name, name, kind: 'human', lastSeen, connected: false }) as never
  const out = formatPeers({ space: 's', known: [p('ann', old.toISOString()), p('bob', new Date(Date.now() - 120_000).toISOString())] }).replace(/\x1b\[[0-9;]*m/g, '')
  expect(out).toContain(`ann  last seen ${when(old.toISOString())}`)
  expect(out).toMatch(/ann {2}last seen \d{4}-\d\d-\d\d \d\d:\d\d/)
  expect(out).toContain('bob  last seen 2m ago')
})

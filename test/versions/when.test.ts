/**
 * Times in history, blame and `show`'s messages read like the rest of the CLI (status, log): the local date
 * and time, `2026-12-06 16:13:44`, never the locale's `12/6/2026, 4:13:44 PM` (a `show 90s` error said so).
 */
import { expect, it } from 'vitest'
import { localTime, whenText } from '../../src/space/versions/when.js'

const LOCAL = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/

it('old and future times are the local date and time; recent ones are relative', () => {
  const now = Date.parse('2026-12-06T16:00:00Z')
  expect(whenText('2026-12-01T09:05:03Z', now)).toMatch(LOCAL)
  expect(whenText('2026-12-07T09:05:03Z', now)).toMatch(LOCAL)
  expect(whenText('2026-12-06T15:59:30Z', now)).toBe('30s ago')
  // As status and log say it (history said '5 min ago' beside log's '5m ago': black-box tester).
  expect(whenText('2026-12-06T15:55:00Z', now)).toBe('5m ago')
  expect(whenText('2026-12-06T13:00:00Z', now)).toBe('3h ago')
  const t = new Date(2026, 0, 2, 3, 4, 5).getTime()
  expect(localTime(t)).toBe('2026-01-02 03:04:05')
})

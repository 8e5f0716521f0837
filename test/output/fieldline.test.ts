/**
 * A changed field in `diff`/`history`: two long values that share their first 40 characters were both cut
 * to the same text and read as "no change" (black-box tester, stop 25): each is shown from a little before
 * where they differ.
 */
import { expect, it } from 'vitest'
import { fieldLine } from '../../src/clihistory.js'

it('shows where two long values differ, not two identical cut starts', () => {
  const before = 'Token bucket per API key, 100 req/s.\nBurst of 20 allowed.'
  const after = 'Token bucket per API key, 100 req/s.\nBurst of 50 allowed.'
  const line = fieldLine({ path: 'todos[id=T-3].notes', kind: 'changed', before, after })
  expect(line).toContain('Burst of 20')
  expect(line).toContain('Burst of 50')
  // Short values are shown whole, as before.
  expect(fieldLine({ path: 'a', kind: 'changed', before: 'open', after: 'done' })).toBe('~ a: open → done')
})

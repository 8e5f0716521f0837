/**
 * The clock versions are stamped and read with. Tests move it without waiting: `CTXSYNC_TEST_CLOCK` names
 * a file holding a number of milliseconds added to the real time, read at every call, so a running daemon
 * and the CLI see the same shifted time (`show 10m` in a test that cannot wait ten minutes). Unset in use.
 */
import fs from 'node:fs'

export function historyNow(): number {
  const f = process.env.CTXSYNC_TEST_CLOCK
  if (!f) return Date.now()
  let offset = 0
  try {
    offset = Number(fs.readFileSync(f, 'utf8').trim()) || 0
  } catch {
    // no file yet: real time
  }
  return Date.now() + offset
}

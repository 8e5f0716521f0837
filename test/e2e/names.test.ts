/**
 * Names, hosts and paths from other machines never reach a terminal or a log raw (issue 12, finding 10),
 * through the built CLI against a running `ctxsync watch`.
 *
 * A stranger with a wrong secret says in its Hello that its name is `ESC[31mevil` + newline + `FAKE LOG
 * LINE` (and a bidi override): the daemon's log shows the escapes, never an ESC byte nor a line of the
 * stranger's making. A member with that name announces, in its Presence, a file path of the same kind:
 * `status` and `peers` (text output) show them escaped too.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs module shared with the benchmark (no types)
import * as wire from '../../bench/hostile-wire.mjs'
import { newPeerId } from '../../src/ids.js'
import { ctx, expectOk, killAll, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, TODOS, waitFor, waitLog, type Peer } from './helpers.js'
import { secretOf, spaceIdOf } from './hostile-helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const EVIL = '\x1b[31mevil\nFAKE LOG LINE\u202e'
const ESCAPED = '\\x1b[31mevil\\nFAKE LOG LINE\\u202e'

/** Nothing a peer could use to repaint a terminal or forge a line: no control or bidi character but \n. */
function expectClean(text: string, what: string): void {
  expect(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(text), `${what} holds a raw control character:\n${JSON.stringify(text)}`).toBe(false)
  for (const line of text.split('\n')) expect(line.startsWith('FAKE LOG LINE'), `${what} holds a forged line:\n${text}`).toBe(false)
}

describe('e2e: peer-supplied names are shown escaped', { timeout: 120_000 }, () => {
  it('a stranger with a wrong secret and a hostile name: the watch log shows it escaped, on one line', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
    const [a] = peers as [Peer]
    const da = await startWatch(a)
    const conn = await wire.openRaw(a.url)
    await expect(wire.authenticate(conn, { spaceId: spaceIdOf(a), secret: 'B'.repeat(43), name: EVIL })).rejects.toThrow(/refused/)
    // Said from the listener's side: it refused the stranger (it said "access refused by" the stranger: issue 17).
    await waitLog(da, /refused a connection from/)
    expectClean(da.log(), 'the watch log')
    expect(da.log()).toContain(`refused a connection from an unknown peer at 127.0.0.1 (it says it is ${ESCAPED}; not proven)`)
    expect(da.log()).not.toContain('access refused by')
  })

  it('a member with a hostile name and presence path: watch log, status and peers show them escaped', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
    const [a] = peers as [Peer]
    const da = await startWatch(a)
    const conn = await wire.openRaw(a.url)
    const peerId = newPeerId()
    const s = await wire.authenticate(conn, { spaceId: spaceIdOf(a), secret: secretOf(a), name: EVIL, peerId })
    const at = Date.now()
    const presence = { type: 'Presence', peer: { id: peerId, name: EVIL, kind: 'agent', host: EVIL }, online: true, files: [{ path: `.rhema/${EVIL}.yaml`, at }], hops: 0, at }
    conn.send(s.seal(wire.encodeMessage(presence)))
    try {
      await waitLog(da, /connected to /)
      let status = ''
      await waitFor(async () => {
        status = (await expectOk(ctx(a.dir, ['status']))).stdout
        return status.includes('online now') && status.includes('editing')
      }, 20_000, 'status to show the member online, editing', () => status)
      const listed = (await expectOk(ctx(a.dir, ['peers']))).stdout
      for (const [what, text] of [['the watch log', da.log()], ['status', status], ['peers', listed]] as const) {
        expectClean(text, what)
        expect(text, what).toContain(ESCAPED)
      }
      expect(status).toContain(`editing .rhema/${ESCAPED}.yaml`)
    } finally {
      conn.close?.()
    }
  })
})

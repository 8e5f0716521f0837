/**
 * `watch` on a port that is taken (issue 17): it printed `cannot listen on 127.0.0.1:PORT: listen
 * EADDRINUSE: address already in use …` with no way out. Now the message says which port, where that port
 * came from (--port or .ctxsync/local.yaml) and what to do; exit 1; and nothing of a daemon is left behind
 * (no daemon.json, no control socket, the space's lock released: a second watch on a free port starts). The
 * same for an address this machine does not have (--host).
 *
 * And a refusal said from this side: a daemon dialling with another secret logged the listener's sentence
 * ("the other peer does not know this space's secret"); now what is wrong here and the fix.
 */
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterAll, afterEach, expect, it } from 'vitest'
import { ctx, freePort, killAll, removeTmpDirs, setupSpace, startWatch, stopWatch, waitLog, type Peer } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

async function occupy(port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const taken = net.createServer()
  await new Promise<void>((r, j) => taken.once('error', j).listen(port, '127.0.0.1', r))
  return { port: (taken.address() as net.AddressInfo).port, close: () => new Promise((r) => taken.close(() => r())) }
}

function nothingLeft(a: Peer): void {
  const state = path.join(a.dir, '.ctxsync')
  expect(fs.existsSync(path.join(state, 'daemon.json'))).toBe(false)
  expect(fs.existsSync(path.join(state, 'daemon.sock'))).toBe(false)
}

it('watch on a port in use: says which port and what to do, exit 1, leaves no daemon behind', { timeout: 90_000 }, async () => {
  const { peers } = await setupSpace(['a'])
  const a = peers[0]!
  const taken = await occupy()
  try {
    const r = await ctx(a.dir, ['watch', '--port', String(taken.port)], { timeout: 30_000 })
    expect(r.exitCode, r.stderr).toBe(1)
    expect(r.stderr.trim()).toBe(
      `ctxsync: port ${taken.port} on 127.0.0.1 is in use: another program listens there (perhaps \`ctxsync watch\` in another checkout). ` +
      'Stop it, or use another port: --port N (0 picks a free one)',
    )
    nothingLeft(a)
    // Detached, the same message comes back from the daemon's log.
    const d = await ctx(a.dir, ['watch', '--detach', '--port', String(taken.port)], { timeout: 40_000 })
    expect(d.exitCode, d.stderr).toBe(1)
    expect(d.stderr).toContain(`port ${taken.port} on 127.0.0.1 is in use`)
    expect(d.stderr).not.toMatch(/EADDRINUSE/)
    nothingLeft(a)
  } finally {
    await taken.close()
  }
  // The port configured in .ctxsync/local.yaml: the fix names that file too.
  const configured = await occupy(a.port)
  try {
    const r = await ctx(a.dir, ['watch'], { timeout: 30_000 })
    expect(r.exitCode, r.stderr).toBe(1)
    expect(r.stderr.trim()).toBe(
      `ctxsync: port ${a.port} on 127.0.0.1 is in use: another program listens there (perhaps \`ctxsync watch\` in another checkout). ` +
      'Stop it, or use another port: --port N (0 picks a free one) or `port:` in .ctxsync/local.yaml',
    )
    nothingLeft(a)
  } finally {
    await configured.close()
  }
  // An address this machine does not have (192.0.2.1: TEST-NET-1, never assigned to a host).
  const away = await ctx(a.dir, ['watch', '--host', '192.0.2.1', '--port', '0'], { timeout: 30_000 })
  expect(away.exitCode, away.stderr).toBe(1)
  expect(away.stderr.trim()).toBe('ctxsync: cannot listen on 192.0.2.1: it is not an address of this machine. Use one it has: --host 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)')
  nothingLeft(a)
  // The lock and the state were let go: a watch on a free port starts and stops cleanly.
  const port = await freePort()
  const d = await startWatch({ ...a, port, url: `ws://127.0.0.1:${port}` })
  expect(await stopWatch(d)).toBe(0)
})

it("watch dialling a peer with another secret says so from this side, with the fix", { timeout: 90_000 }, async () => {
  const { peers } = await setupSpace(['a', 'b'])
  const [a, b] = peers as [Peer, Peer]
  const da = await startWatch(a)
  // b dials a (its configured peer) holding a secret that is not the space's.
  const db = await startWatch(b, [], { CTXSYNC_SECRET: 'x'.repeat(43) })
  // It logged the listener's sentence, "access refused: the other peer does not know this space's secret".
  await waitLog(db, /refused by/)
  expect(db.log()).toContain(
    `refused by ${a.url} (it says it is a): this machine's secret (from CTXSYNC_SECRET) is not the one the peer uses for this space: ` +
    "unset CTXSYNC_SECRET to use .ctxsync/secret, or set it to the space's secret",
  )
  await waitLog(da, /refused a connection from an unknown peer at 127\.0\.0\.1 \(it says it is b; not proven\)/)
  expect(db.log()).not.toMatch(/connected to a/)
  expect(await stopWatch(db)).toBe(0)
  expect(await stopWatch(da)).toBe(0)
})

/**
 * `serve` on a port that is taken (issue 17): the message says what to do, not `listen EADDRINUSE`, and
 * the --data directory it had to create for the run is not left behind.
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { ctx } from './helpers.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

it('serve on a port in use: a message with the fix, exit 1, and no --data directory left behind', async () => {
  const taken = net.createServer()
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r))
  const { port } = taken.address() as net.AddressInfo
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-serve-'))
  dirs.push(cwd)
  try {
    const r = await ctx(cwd, ['serve', '--host', '127.0.0.1', '--port', String(port), '--data', 'relay-data'])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is in use`)
    expect(r.stderr).toContain('pass --port (0 picks a free one)')
    expect(r.stderr).not.toMatch(/EADDRINUSE/)
    expect(fs.existsSync(path.join(cwd, 'relay-data'))).toBe(false)
  } finally {
    taken.close()
  }
})

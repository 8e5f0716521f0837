/**
 * Temp directories and ports of the e2e rig (`helpers.ts` re-exports them; `worlds.ts` copies worlds into them).
 */
import fsp from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { RECORDING_MARK } from '../../src/git/hooks.js'

// Ports for daemons that tests start with a fixed --port. Not from listen(0): the kernel gives those out of the
// ephemeral range (32768-60999), which outgoing connections of other tests draw from too, so a port picked that
// way could be taken again between the pick and the daemon's listen (final CI of stop 24: live.test.ts,
// EADDRINUSE). Below that range only our own picks land. Each vitest worker of a run takes its own slice
// (VITEST_POOL_ID), so the workers of one run never meet; within it, a process takes a part by its pid (runs
// side by side, as when several people test on one machine, rarely meet), and a port still in use is skipped.
const SLICE = 1_500
const PART = 150
const sliceBase = 20_000 + ((Number(process.env.VITEST_POOL_ID ?? 0) % 8) * SLICE) + ((process.pid % (SLICE / PART)) * PART)
let nextPort = Math.floor(Math.random() * PART)
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PART; tries++) {
    const port = sliceBase + (nextPort++ % PART)
    if (await canListen(port)) return port
  }
  throw new Error(`no free port in ${sliceBase}-${sliceBase + PART - 1}`)
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

const tmpDirs: string[] = []
export async function tmpDir(prefix = 'ctxsync-e2e-'): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), prefix))
  tmpDirs.push(d)
  return d
}
/**
 * afterAll. A post-commit hook records its sync point in the background, after `git commit` returned: it
 * may still be writing to `.ctxsync/` when a test ends (CI once failed removing it with ENOTEMPTY). Its
 * mark in git's directory lives exactly as long as that recorder, so wait for the marks to go first.
 */
export async function removeTmpDirs(): Promise<void> {
  const dirs = tmpDirs.splice(0)
  await waitRecorders(dirs)
  await Promise.all(dirs.map((d) => fsp.rm(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })))
}

/** Waits (up to 20 s) until no background post-commit recorder works in the repositories under `dirs`. */
export async function waitRecorders(dirs: string[]): Promise<void> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline && (await Promise.all(dirs.map(recordersRunning))).some(Boolean)) await sleep(100)
}

/** Whether a background post-commit recorder is still at work in a repository up to two levels below `dir`. */
async function recordersRunning(dir: string): Promise<boolean> {
  const ls = (d: string) => fsp.readdir(d, { withFileTypes: true }).catch(() => [])
  const repos = [dir, ...(await ls(dir)).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name))]
  for (const r of repos) {
    if ((await ls(path.join(r, '.git'))).some((e) => e.name.startsWith(RECORDING_MARK))) return true
  }
  return false
}


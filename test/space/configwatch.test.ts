/**
 * The daemon's hint that its settings changed (configwatch.ts), on real files and a real directory watch.
 * `git switch --detach` to a commit without ctxsync.yaml and back said "ctxsync.yaml changed" twice, the
 * second time for the very text the daemon runs with (issue 17 tester).
 */
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { watchSettings } from '../../src/space/configwatch.js'

const dirs: string[] = []
const stops: Array<() => void> = []
afterEach(async () => {
  for (const s of stops.splice(0)) s()
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true })
})

async function until(cond: () => boolean, what: string, seen: () => unknown): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(seen())}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('watchSettings', () => {
  it('a settings file removed and put back as it was (git switch --detach and back) is not said to have changed', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ctxsync-configwatch-'))
    dirs.push(dir)
    const file = path.join(dir, 'ctxsync.yaml')
    const text = 'space: s-test\ntrack:\n  - .rhema/**/*.yaml\n'
    await fsp.writeFile(file, text)
    const lines: string[] = []
    const stop = watchSettings([file], (l) => lines.push(l), 'restart it')
    stops.push(stop)
    await stop.ready

    // The switch to a commit without it: gone, which is no change to apply at a restart.
    await fsp.rm(file)
    await until(() => lines.length === 1, 'the removal to be said', () => lines)
    expect(lines[0]).toMatch(/^ctxsync\.yaml was removed: the daemon keeps the settings it started with/)
    // The switch back: the same text as at the start.
    await fsp.writeFile(file, text)
    await until(() => lines.length === 2, 'the way back to be said', () => lines)
    expect(lines[1]).toBe('ctxsync.yaml is back to what the daemon started with: nothing to restart')
    expect(lines.join('\n')).not.toMatch(/changed/)

    // A real change is still said, with what applies it.
    await fsp.writeFile(file, text + 'discovery: none\n')
    await until(() => lines.length === 3, 'the change to be said', () => lines)
    expect(lines[2]).toBe('ctxsync.yaml changed: it applies from the next start of the daemon (restart it)')
  })
})

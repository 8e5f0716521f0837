import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SpaceLockedError, acquireLock, readLockOwner } from '../../src/fs/lock.js'
import { removeTmpDirs, startChild, tmpDir } from './helpers.js'

afterAll(removeTmpDirs)

describe('space lock', () => {
  it('refuses a second holder in another process with an error naming the owner', async () => {
    const stateDir = path.join(await tmpDir(), '.ctxsync')
    const child = await startChild('lockHolder', [stateDir, 'ctxsync watch'])
    const pid = Number((await child.waitFor(/^locked /)).split(' ')[1])
    const owner = await readLockOwner(stateDir)
    expect(owner).toMatchObject({ pid, command: 'ctxsync watch', alive: true })
    const err = await acquireLock(stateDir, { wait: 300 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SpaceLockedError)
    expect((err as SpaceLockedError).owner).toMatchObject({ pid, command: 'ctxsync watch' })
    expect((err as Error).message).toContain(`\`ctxsync watch\` (pid ${pid}) holds this space`)
    // A daemon never finishes by itself: the message names what stops it (black-box tester).
    expect((err as Error).message).toMatch(/; `ctxsync stop` stops it \(or Ctrl-C in its terminal\)$/)
    child.proc.stdin!.write('release\n')
    await child.waitFor(/^released/)
    await child.exited
    expect(await readLockOwner(stateDir)).toBeNull()
    const release = await acquireLock(stateDir, { command: 'ctxsync sync' })
    expect(await readLockOwner(stateDir)).toMatchObject({ pid: process.pid, command: 'ctxsync sync' })
    await release()
    await release() // idempotent
    expect(await readLockOwner(stateDir)).toBeNull()
  })

  it('takes over at once a lock whose owner was killed', async () => {
    const stateDir = path.join(await tmpDir(), '.ctxsync')
    const child = await startChild('lockHolder', [stateDir, 'ctxsync watch'])
    await child.waitFor(/^locked /)
    child.proc.kill('SIGKILL')
    await child.exited
    expect(await readLockOwner(stateDir)).toMatchObject({ alive: false })
    const t0 = Date.now()
    const release = await acquireLock(stateDir, { command: 'ctxsync sync' })
    expect(Date.now() - t0).toBeLessThan(5000) // well under the 10 s stale period
    expect(await readLockOwner(stateDir)).toMatchObject({ pid: process.pid })
    await release()
  })

  it('takes over at once a lock whose owner was killed and whose pid another process has taken', async () => {
    const stateDir = path.join(await tmpDir(), '.ctxsync')
    const child = await startChild('lockHolder', [stateDir, 'ctxsync watch'])
    await child.waitFor(/^locked /)
    child.proc.kill('SIGKILL')
    await child.exited
    // Another process now has a pid the owner file names (as a reused pid would be).
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' })
    try {
      const ownerFile = path.join(stateDir, 'lock.owner.json')
      const owner = JSON.parse(await fs.readFile(ownerFile, 'utf8'))
      expect(owner.procStart).toMatch(/^\d+$/)
      await fs.writeFile(ownerFile, JSON.stringify({ ...owner, pid: other.pid }))
      expect(await readLockOwner(stateDir)).toMatchObject({ pid: other.pid, alive: false })
      // The same pid with its own start time is a live owner.
      const stat = await fs.readFile(`/proc/${other.pid}/stat`, 'utf8')
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
      await fs.writeFile(ownerFile, JSON.stringify({ ...owner, pid: other.pid, procStart: start }))
      expect(await readLockOwner(stateDir)).toMatchObject({ pid: other.pid, alive: true })
      await fs.writeFile(ownerFile, JSON.stringify({ ...owner, pid: other.pid }))
      const t0 = Date.now()
      const release = await acquireLock(stateDir, { command: 'ctxsync watch' })
      expect(Date.now() - t0).toBeLessThan(5000) // well under the 10 s stale period
      expect(await readLockOwner(stateDir)).toMatchObject({ pid: process.pid })
      await release()
    } finally {
      other.kill('SIGKILL')
    }
  })

  it('takes over a stale lock left with no owner file', async () => {
    const stateDir = path.join(await tmpDir(), '.ctxsync')
    await fs.mkdir(path.join(stateDir, 'lock'), { recursive: true })
    const old = new Date(Date.now() - 60_000)
    await fs.utimes(path.join(stateDir, 'lock'), old, old)
    const release = await acquireLock(stateDir)
    await release()
  })

  it('takes over within seconds a lock whose holder died before naming itself, but not a fresh one', async () => {
    const stateDir = path.join(await tmpDir(), '.ctxsync')
    await fs.mkdir(path.join(stateDir, 'lock'), { recursive: true })
    // Just taken, owner file not written yet: the holder may be alive.
    expect(await acquireLock(stateDir).catch((e: unknown) => e)).toBeInstanceOf(SpaceLockedError)
    // 4 s without a refresh (proper-lockfile's stale limit is 10 s): nobody is behind it.
    const old = new Date(Date.now() - 4000)
    await fs.utimes(path.join(stateDir, 'lock'), old, old)
    const release = await acquireLock(stateDir)
    await release()
  })

  it('waits for a holder that lets go within the wait time', async () => {
    const stateDir = path.join(await tmpDir(), '.ctxsync')
    const first = await acquireLock(stateDir, { command: 'ctxsync watch' })
    setTimeout(() => void first(), 200)
    const second = await acquireLock(stateDir, { wait: 3000 })
    await second()
  })
})

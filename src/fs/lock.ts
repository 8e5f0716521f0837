/**
 * The space's single-writer lock over `.ctxsync/`.
 *
 * proper-lockfile does the locking: an atomic mkdir of `.ctxsync/lock`, kept fresh by touching its mtime
 * every `update` ms, and considered stale (taken over) when the mtime is older than `stale` ms. Beside it we
 * write `lock.owner.json` (pid, command, host, and the lock directory's identity) so that a refused caller
 * can say who holds the space, and so that a lock whose owner died (kill -9, crash) is taken over at once
 * instead of after the stale period. The owner file records only the subcommand, never the full argv,
 * which may carry secrets.
 *
 * Dead-owner takeover: only when the owner ran on this host, its pid is gone, and the lock directory is
 * still the very one it created (inode + birth time); the check-and-remove runs under a short second lock so
 * that two processes taking over at once cannot remove each other's fresh lock.
 */
import { readFileSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { CtxError } from '../errors.js'
import { logger } from '../debuglog.js'

const log = logger('fs:lock')

export interface LockOwner {
  pid: number
  /** What holds the lock, e.g. `ctxsync watch`. */
  command: string
  hostname: string
  startedAt: string
  /** False when the pid is gone on this host; null when the owner runs on another host (cannot tell). */
  alive?: boolean | null
}

interface OwnerFile extends LockOwner {
  nonce: string
  lockId: string
  /** When the holding process started (Linux: `/proc/<pid>/stat` field 22), to tell a reused pid. */
  procStart?: string
}

export class SpaceLockedError extends CtxError {
  readonly owner: LockOwner | null
  constructor(stateDir: string, owner: LockOwner | null) {
    const who = owner ? describeOwner(owner) : 'another ctxsync process'
    // A daemon does not finish by itself: name the command that stops it (a second `watch` said only
    // "stop it or wait", black-box tester).
    const daemon = owner !== null && /^ctxsync watch\b/.test(owner.command) && owner.hostname === os.hostname()
    const what = daemon ? '`ctxsync stop` stops it (or Ctrl-C in its terminal)' : 'stop it or wait for it to finish, then try again'
    super('space-locked', `${who} holds this space (${stateDir}); ${what}`, undefined, { owner })
    this.owner = owner
  }
}

/** "`ctxsync watch` (pid 4242)", with the host when it is not this one. */
export function describeOwner(owner: LockOwner): string {
  const host = owner.hostname !== os.hostname() ? ` on ${owner.hostname}` : ''
  return `\`${owner.command}\` (pid ${owner.pid}${host})`
}

export interface AcquireOptions {
  /** How long to keep trying while another live process holds the lock (ms, default 0: fail at once). */
  wait?: number
  /** Recorded for others to read (default: the program name and subcommand). */
  command?: string
  /** Lock age after which it is stale (ms, default 10 s); it is refreshed every stale/3. */
  stale?: number
  /** Called if the lock is lost while held (refresh failed for longer than `stale`, or someone removed it). */
  onCompromised?: (err: Error) => void
}

export type ReleaseLock = () => Promise<void>

const lockPath = (stateDir: string): string => path.join(stateDir, 'lock')
const ownerPath = (stateDir: string): string => path.join(stateDir, 'lock.owner.json')

export async function acquireLock(stateDir: string, opts: AcquireOptions = {}): Promise<ReleaseLock> {
  const dir = path.resolve(stateDir)
  await fs.mkdir(dir, { recursive: true })
  const stale = opts.stale ?? 10_000
  const deadline = Date.now() + (opts.wait ?? 0)
  for (;;) {
    try {
      const { default: lockfile } = await import('proper-lockfile')
      const release = await lockfile.lock(dir, {
        lockfilePath: lockPath(dir),
        realpath: false,
        stale,
        update: Math.max(1000, Math.floor(stale / 3)),
        onCompromised: (err) => {
          log('lock on %s compromised: %s', dir, err.message)
          opts.onCompromised?.(err)
        },
      })
      return await recordOwner(dir, release, opts.command ?? defaultCommand())
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e
    }
    const owner = await readOwnerFile(dir)
    if (owner && (await takeOverIfDead(dir, owner))) continue
    if (await takeOverOwnerless(dir, owner)) continue
    const left = deadline - Date.now()
    if (left <= 0) {
      // An owner file left by an earlier holder does not describe the current one.
      const current = owner && owner.lockId === (await lockIdentity(dir).catch(() => '')) ? owner : null
      throw new SpaceLockedError(dir, current ? publicOwner(current) : null)
    }
    await sleep(Math.min(100, left))
  }
}

async function recordOwner(dir: string, release: () => Promise<void>, command: string): Promise<ReleaseLock> {
  const owner: OwnerFile = {
    pid: process.pid,
    command,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    nonce: randomBytes(8).toString('hex'),
    lockId: await lockIdentity(dir),
  }
  const started = processStart(process.pid)
  if (started !== null) owner.procStart = started
  const tmp = `${ownerPath(dir)}.${owner.nonce}`
  await fs.writeFile(tmp, JSON.stringify(owner) + '\n')
  await fs.rename(tmp, ownerPath(dir))
  let released = false
  return async () => {
    if (released) return
    released = true
    const current = await readOwnerFile(dir)
    if (current?.nonce === owner.nonce) await fs.unlink(ownerPath(dir)).catch(() => undefined)
    await release().catch((e: unknown) => log('releasing %s: %s', dir, (e as Error).message))
  }
}

/** The owner of a live (non-stale) lock on the space, or null when nobody holds it. */
export async function readLockOwner(stateDir: string, opts: { stale?: number } = {}): Promise<LockOwner | null> {
  const dir = path.resolve(stateDir)
  // Nobody holds it if the lock directory is absent: answer without loading the locking library.
  if (!(await fs.stat(lockPath(dir)).then(() => true, () => false))) return null
  const { default: lockfile } = await import('proper-lockfile')
  const locked = await lockfile
    .check(dir, { lockfilePath: lockPath(dir), realpath: false, stale: opts.stale ?? 10_000 })
    .catch(() => false)
  if (!locked) return null
  const owner = await readOwnerFile(dir)
  if (!owner || owner.lockId !== (await lockIdentity(dir).catch(() => ''))) return null
  return publicOwner(owner)
}

async function takeOverIfDead(dir: string, owner: OwnerFile): Promise<boolean> {
  if (owner.hostname !== os.hostname() || ownerAlive(owner)) return false
  return underTakeoverGuard(dir, async () => {
    const id = await lockIdentity(dir).catch(() => null)
    if (id === null) return true // gone already: just try again
    if (id !== owner.lockId) return false // a new holder that has not written its owner file yet
    await fs.rmdir(lockPath(dir))
    await fs.unlink(ownerPath(dir)).catch(() => undefined)
    log('took over the lock of %s from dead pid %d', dir, owner.pid)
    return true
  })
}

/**
 * A holder writes its owner file right after taking the lock; killed in between, it leaves a lock nobody
 * can name, which would block every start until proper-lockfile deems it stale (10 s). A lock without a
 * matching owner file whose time has not been refreshed for `OWNERLESS_MS` has no live holder.
 */
const OWNERLESS_MS = 3000

async function takeOverOwnerless(dir: string, owner: OwnerFile | null): Promise<boolean> {
  const id = await lockIdentity(dir).catch(() => null)
  if (id === null || owner?.lockId === id) return false
  const st = await fs.stat(lockPath(dir)).catch(() => null)
  if (!st || Date.now() - st.mtimeMs < OWNERLESS_MS) return false
  return underTakeoverGuard(dir, async () => {
    if ((await lockIdentity(dir).catch(() => null)) !== id) return true // changed hands meanwhile: try again
    if ((await readOwnerFile(dir))?.lockId === id) return false
    await fs.rmdir(lockPath(dir))
    log('took over an ownerless lock of %s (its holder died before naming itself)', dir)
    return true
  })
}

/** Two processes taking over the same dead lock at once must not remove each other's fresh lock. */
async function underTakeoverGuard(dir: string, f: () => Promise<boolean>): Promise<boolean> {
  let releaseGuard: (() => Promise<void>) | undefined
  try {
    const { default: lockfile } = await import('proper-lockfile')
    releaseGuard = await lockfile.lock(dir, {
      lockfilePath: path.join(dir, 'lock.takeover'),
      realpath: false,
      stale: 2000,
      retries: { retries: 20, minTimeout: 10, maxTimeout: 100 },
    })
    return await f()
  } catch (e) {
    log('takeover of %s failed: %s', dir, (e as Error).message)
    return false
  } finally {
    await releaseGuard?.().catch(() => undefined)
  }
}

async function readOwnerFile(dir: string): Promise<OwnerFile | null> {
  try {
    const v = JSON.parse(await fs.readFile(ownerPath(dir), 'utf8')) as Partial<OwnerFile>
    if (typeof v.pid !== 'number' || typeof v.command !== 'string' || typeof v.hostname !== 'string') return null
    return v as OwnerFile
  } catch {
    return null
  }
}

function publicOwner(o: OwnerFile): LockOwner {
  const alive = o.hostname === os.hostname() ? ownerAlive(o) : null
  return { pid: o.pid, command: o.command, hostname: o.hostname, startedAt: o.startedAt, alive }
}

/** Identifies one incarnation of the lock directory: a removed and re-made directory gets a new birth time. */
async function lockIdentity(dir: string): Promise<string> {
  const st = await fs.stat(lockPath(dir), { bigint: true })
  return `${st.dev}:${st.ino}:${st.birthtimeNs}`
}

/**
 * The owner's process still runs: its pid exists and, where the start time can be read, it is the very
 * process that wrote the owner file. Pids are reused (32,768 of them by default, and a busy machine goes
 * round in hours): the lock of a daemon killed with -9 whose pid a new process took was kept until it went
 * stale (10 s), refusing every start meanwhile (the crash test met it once in CI).
 */
function ownerAlive(o: OwnerFile): boolean {
  if (!pidAlive(o.pid)) return false
  if (o.procStart === undefined) return true
  const now = processStart(o.pid)
  return now === null || now === o.procStart
}

/** Start time of a process in clock ticks since boot, or null where /proc does not say (not Linux). */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which may itself hold spaces and parentheses: state is field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function defaultCommand(): string {
  const prog = path.basename(process.argv[1] ?? 'node').replace(/\.(c|m)?js$/, '')
  const sub = process.argv[2]
  return sub && /^[a-z][a-z-]*$/.test(sub) ? `${prog} ${sub}` : prog
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Assembling a space: finding its root, reading its configuration and this machine's identity, taking the
 * space lock, and choosing its parts (store, parse check, clock). `Space.open` builds on this; a failure
 * after the lock was taken releases it.
 */
import os from 'node:os'
import path from 'node:path'
import { CtxError, NotInitializedError } from '../errors.js'
import { acquireLock, type ReleaseLock } from '../fs/lock.js'
import { FileDocStore } from '../fs/sidecar.js'
import type { DocStore } from '../fs/StorageAdapterInterface.js'
import { Repo } from '../git/repo.js'
import { gitUserName } from '../git/user.js'
import { branchPaths, DETACHED } from './branches.js'
import { DEFAULT_HOST, DEFAULT_PORT, readLocalSettings, readTeamConfig, type LocalSettings, type TeamConfig } from './config.js'
import { ParseChecker } from './parsecheck.js'
import { startJoining } from './join.js'
import { olderCheckoutError } from './joinconfig.js'
import { findRoot, gitRoot, spacePaths, type SpacePaths } from './paths.js'
import { createIdentity, readIdentity, resolveSecret, resolveToken, type Identity } from './secrets.js'

export interface OpenOptions {
  cwd: string
  /** Recorded in the lock so that others can say who holds the space (`ctxsync sync`). */
  command: string
  /** 'read': no lock, never writes. Otherwise take the lock, waiting up to `wait` ms. */
  lock: 'read' | { wait: number }
  /** Create this machine's state if only `ctxsync.yaml` exists (CI checkouts). */
  autoInit?: boolean
  warn?: (message: string) => void
  /**
   * The parts a space is assembled from, for tests and embedders (after automerge-repo's adapters): the
   * sidecar store (default: files under `.ctxsync/docs`, `fs/sidecar.ts`; `MemoryDocStore` runs the same
   * contract), the check that renderings parse (default: a worker thread for large ones) and the clock that
   * stamps values and conflicts (seconds). Each defaults to the production one.
   */
  parts?: SpaceParts
}

export interface SpaceParts {
  store?: (paths: SpacePaths) => DocStore
  parseCheck?: ParseChecker
  /** Seconds since the epoch. */
  now?: () => number
}

export interface Assembled {
  paths: SpacePaths
  config: TeamConfig
  local: LocalSettings
  identity: Identity
  secret: string | null
  token: string | null
  store: DocStore
  release: ReleaseLock | null
  warn: (message: string) => void
  branch: string | null
  parseCheck: ParseChecker
  now: (() => number) | undefined
}

/** Assembles the parts of the space around `o.cwd` and hands them to `build`; releases the lock if either fails. */
export async function assemble<T>(o: OpenOptions, build: (a: Assembled) => Promise<T>): Promise<T> {
  const root = findRoot(o.cwd)
  if (!root) throw (await olderCheckoutError(o.cwd, gitRoot(o.cwd))) ?? new NotInitializedError(path.resolve(o.cwd), gitRoot(o.cwd))
  let paths = spacePaths(root)
  const config = await readTeamConfig(paths.config)
  if (!config) throw new NotInitializedError(root)
  const release = o.lock === 'read' ? null : await acquireLock(paths.state, { wait: o.lock.wait, command: o.command })
  try {
    let branch: string | null = null
    if (config.branches === 'separate') {
      branch = (await (await Repo.open(root))?.branch()) ?? DETACHED
      paths = await branchPaths(paths, branch, o.lock !== 'read')
    }
    let identity = await readIdentity(paths.identity)
    if (!identity) {
      if (!o.autoInit || o.lock === 'read') {
        throw new CtxError('no-local-state', `this clone has no local ctxsync state: run \`ctxsync init\` in ${root}`)
      }
      // A checkout of a space that already exists (CI's `sync` without `init`) joins like `init` does
      // (join.ts): its committed files are older renderings of the live context, not edits of it.
      if (process.env.CTXSYNC_JOIN_WAIT !== '0') await startJoining(root)
      identity = await createIdentity(paths.identity)
    }
    const local = await readLocalSettings(paths.local, await defaultLocalSettings(root))
    const secret = (await resolveSecret(paths.secret))?.secret ?? null
    const store = o.parts?.store?.(paths) ?? new FileDocStore({ dir: paths.docs })
    const parseCheck = o.parts?.parseCheck ?? new ParseChecker()
    return await build({ paths, config, local, identity, secret, token: resolveToken(), store, release, warn: o.warn ?? (() => {}), branch, parseCheck, now: o.parts?.now })
  } catch (e) {
    await release?.()
    throw e
  }
}

async function defaultLocalSettings(root: string): Promise<LocalSettings> {
  const name = (await gitUserName(root)) ?? os.userInfo().username ?? 'someone'
  return { name, agent: false, host: DEFAULT_HOST, port: DEFAULT_PORT, peers: [] }
}

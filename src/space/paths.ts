/**
 * Where a space keeps things. The committed team config `ctxsync.yaml` marks the repository root; the
 * machine-local directory `.ctxsync/` beside it (git-ignored) holds this machine's settings, identity,
 * secret and CRDT state.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createHash } from 'node:crypto'
import { CtxError } from '../errors.js'

export const CONFIG_FILE = 'ctxsync.yaml'
export const STATE_DIR = '.ctxsync'

export interface SpacePaths {
  root: string
  config: string
  state: string
  local: string
  identity: string
  secret: string
  docs: string
  summary: string
  peers: string
  daemon: string
  socket: string
  log: string
}

export function spacePaths(root: string): SpacePaths {
  const state = path.join(root, STATE_DIR)
  return {
    root,
    config: path.join(root, CONFIG_FILE),
    state,
    local: path.join(state, 'local.yaml'),
    identity: path.join(state, 'identity.json'),
    secret: path.join(state, 'secret'),
    docs: path.join(state, 'docs'),
    summary: path.join(state, 'status.json'),
    peers: path.join(state, 'peers.json'),
    daemon: path.join(state, 'daemon.json'),
    socket: socketPath(state),
    log: path.join(state, 'daemon.log'),
  }
}

/**
 * Unix socket paths are limited to ~104 bytes; deep checkouts get a short path in the temp directory,
 * named after the state directory so that each space has its own.
 */
function socketPath(state: string): string {
  if (process.platform === 'win32') {
    return `\\\\.\\pipe\\ctxsync-${createHash('sha256').update(state).digest('hex').slice(0, 16)}`
  }
  const direct = path.join(state, 'daemon.sock')
  if (Buffer.byteLength(direct) < 100) return direct
  return path.join(os.tmpdir(), `ctxsync-${createHash('sha256').update(state).digest('hex').slice(0, 16)}.sock`)
}

/**
 * The nearest directory at or above `cwd` that holds `ctxsync.yaml`, or null. Every command finds its
 * space here, so this is also where a linked `.ctxsync` (or a link directly in it) is refused, before any
 * command reads its secret or writes its state through the link (see statedir.ts).
 *
 * The walk stops at the git root, as git's own does: a repository nested in a directory that holds a space
 * is a project of its own, and taking the outer space would sync its files under the wrong names (and make
 * sync points in one repository for another's state).
 */
export function findRoot(cwd: string): string | null {
  let dir = path.resolve(cwd)
  for (;;) {
    if (fs.existsSync(path.join(dir, CONFIG_FILE))) {
      checkStateDirSync(dir)
      return dir
    }
    const up = path.dirname(dir)
    if (up === dir || isGitRoot(dir)) return null
    dir = up
  }
}

/** `.git` as a directory (a clone) or a file (a worktree, a submodule): where git's walk stops. */
function isGitRoot(dir: string): boolean {
  return fs.existsSync(path.join(dir, '.git'))
}

/** The enclosing git work tree's root, or null outside one. */
export function gitRoot(cwd: string): string | null {
  let dir = path.resolve(cwd)
  for (;;) {
    if (isGitRoot(dir)) return dir
    const up = path.dirname(dir)
    if (up === dir) return null
    dir = up
  }
}

/** The repository root for `init`: the enclosing git work tree, else `cwd`. */
export function initRoot(cwd: string): string {
  return gitRoot(cwd) ?? path.resolve(cwd)
}

export class StateLinkError extends CtxError {
  readonly path: string
  constructor(root: string, file: string) {
    const rel = path.relative(root, file) || file
    super(
      'state-link',
      `${rel} is a symbolic link: ctxsync keeps this machine's secret and state in ${STATE_DIR}/ and never follows links there ` +
        `(a repository may carry one to send them elsewhere). Remove it (\`rm ${rel}\`) and run \`ctxsync init\` again`,
    )
    this.path = file
  }
}

/**
 * Refuses a `.ctxsync` under `root` that is a link or not a directory, and any link directly inside it;
 * a missing one is fine. One lstat and one readdir.
 */
export function checkStateDirSync(root: string): void {
  const state = path.join(root, STATE_DIR)
  let st: fs.Stats
  try {
    st = fs.lstatSync(state)
  } catch (e) {
    if (['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) return
    throw e
  }
  if (st.isSymbolicLink()) throw new StateLinkError(root, state)
  if (!st.isDirectory()) {
    throw new CtxError('state-not-dir', `${STATE_DIR} is not a directory: ctxsync keeps this machine's state there; move it away and run \`ctxsync init\``)
  }
  for (const e of fs.readdirSync(state, { withFileTypes: true })) {
    if (e.isSymbolicLink()) throw new StateLinkError(root, path.join(state, e.name))
  }
}

/**
 * Which files a space tracks.
 *
 * A tracked name is a repository-relative POSIX path that matches the include globs, matches no exclude
 * glob and has no `.git`, `node_modules` or `.ctxsync` segment. Doc names arriving from the network go
 * through `normalizeDocPath`, which accepts exactly one spelling per file: two peers must never hold the
 * same file under two names (that would double it) and no name may point outside the repository.
 *
 * Scope-file rule: `rhema.y(a)ml` and `scope.y(a)ml` outside a `.rhema/` directory are tracked only at the
 * repository root or beside a `.rhema/` directory, since elsewhere those names are common in unrelated
 * tools. The rule needs the file system, so it is applied by `listTracked` and the watcher
 * (`isTrackedFile`), not by the pure matcher nor by `normalizeDocPath` (a peer may create the `.rhema/`
 * directory with the same sync).
 *
 * Nested repositories: a directory under the root holding a `.git` (a directory, or a file as submodules
 * and worktrees have) is another project, with its own space or none — git stops there, and so do
 * `listTracked` and the watcher (`inNestedRepo`). The outer space tracked and synced the inner one's files.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import picomatch from 'picomatch'
import { glob } from 'tinyglobby'
import { CtxError } from '../errors.js'
import type { DocName } from '../ids.js'

export const DEFAULT_INCLUDE: readonly string[] = ['**/.rhema/**/*.{yaml,yml}', '**/rhema.{yaml,yml}', '**/scope.{yaml,yml}']
/** Never tracked, never traversed. */
export const ALWAYS_IGNORED_DIRS: readonly string[] = ['.git', 'node_modules', '.ctxsync']
const IGNORED = new Set(ALWAYS_IGNORED_DIRS)
const SCOPE_NAMES = new Set(['rhema.yaml', 'rhema.yml', 'scope.yaml', 'scope.yml'])
const MAX_NAME = 4096

/** Tests a repository-relative POSIX path against the tracked globs (names only, no file system). */
export type Matcher = (rel: string) => boolean

export function createMatcher(include: readonly string[], exclude: readonly string[] = []): Matcher {
  const inc = picomatch([...include], { dot: true })
  const exc = exclude.length > 0 ? picomatch([...exclude], { dot: true }) : () => false
  return (rel) => rel !== '' && !hasIgnoredSegment(rel) && inc(rel) && !exc(rel)
}

/** True when some directory segment of `rel` is one we never look into. */
export function hasIgnoredSegment(rel: string): boolean {
  for (const seg of rel.split('/')) if (IGNORED.has(seg)) return true
  return false
}

/** A scope-file name outside `.rhema/`: subject to the scope-file rule above. */
export function isScopeFile(rel: string): boolean {
  const segs = rel.split('/')
  return SCOPE_NAMES.has(segs[segs.length - 1]!) && !segs.slice(0, -1).includes('.rhema')
}

/** The scope-file rule's file-system half: at the root, or beside a `.rhema/` directory. */
export async function scopeFileAllowed(root: string, rel: string): Promise<boolean> {
  const dir = path.posix.dirname(rel)
  if (dir === '.') return true
  const st = await fs.lstat(path.join(root, ...dir.split('/'), '.rhema')).catch(() => null)
  return st?.isDirectory() ?? false
}

/** Full tracking decision for a name that exists (or may exist) under `root`. */
export async function isTrackedFile(root: string, rel: string, match: Matcher): Promise<boolean> {
  return match(rel) && (!isScopeFile(rel) || (await scopeFileAllowed(root, rel))) && !(await inNestedRepo(root, rel))
}

/** Is `rel` inside a repository nested under `root` (some directory on its way, below root, holds a `.git`)? */
export async function inNestedRepo(root: string, rel: string): Promise<boolean> {
  const segs = rel.split('/').slice(0, -1)
  for (let i = 1; i <= segs.length; i++) {
    if (await fs.lstat(path.join(root, ...segs.slice(0, i), '.git')).then(() => true, () => false)) return true
  }
  return false
}

export interface TrackedListing {
  /** Regular tracked files, sorted, repository-relative POSIX paths. */
  files: string[]
  /** Tracked names that are symbolic links: never followed, reported so the caller can warn. */
  symlinks: string[]
  /** Links where tracked files could live under them (`.rhema`, `.rhema/sub`): never followed either. */
  linkedDirs: string[]
}

/**
 * Enumerates tracked files under `root` without following symbolic links. tinyglobby drops symlinks
 * entirely when it does not follow them, so a second pass over the directories it walked finds them.
 */
export async function listTracked(root: string, include: readonly string[], exclude: readonly string[] = []): Promise<TrackedListing> {
  const match = createMatcher(include, exclude)
  const ignore = [...ALWAYS_IGNORED_DIRS.map((d) => `**/${d}/**`), ...exclude]
  const common = { cwd: root, dot: true, followSymbolicLinks: false, expandDirectories: false, ignore }
  const [files, dirs] = await Promise.all([
    glob([...include], { ...common, onlyFiles: true }),
    glob(['**'], { ...common, onlyDirectories: true }),
  ])
  const symlinks: string[] = []
  const linkedDirs: string[] = []
  const nested: string[] = []
  // A link whose name is not tracked but whose contents would be (a linked `.rhema/` or `.rhema/sub/`).
  const holdsTracked = (rel: string) => match(`${rel}/ctxsync-probe.yaml`) || match(`${rel}/ctxsync-probe.yml`)
  await forEachLimited(['', ...dirs.map((d) => d.replace(/\/$/, ''))], 16, async (dir) => {
    const entries = await fs.readdir(path.join(root, dir), { withFileTypes: true }).catch(() => [])
    for (const e of entries) {
      if (dir !== '' && e.name === '.git') nested.push(dir + '/')
      if (!e.isSymbolicLink()) continue
      const rel = dir === '' ? e.name : `${dir}/${e.name}`
      if (match(rel)) symlinks.push(rel)
      else if (holdsTracked(rel)) linkedDirs.push(rel)
    }
  })
  const outside = (rel: string) => nested.some((n) => rel.startsWith(n))
  const tracked: string[] = []
  await forEachLimited(files, 32, async (rel) => {
    if (match(rel) && !outside(rel) && (!isScopeFile(rel) || (await scopeFileAllowed(root, rel)))) tracked.push(rel)
  })
  const kept: string[] = []
  await forEachLimited(symlinks, 32, async (rel) => {
    if (!outside(rel) && (!isScopeFile(rel) || (await scopeFileAllowed(root, rel)))) kept.push(rel)
  })
  return { files: tracked.sort(), symlinks: kept.sort(), linkedDirs: linkedDirs.filter((d) => !outside(d)).sort() }
}

export class InvalidDocPathError extends CtxError {
  constructor(name: string, reason: string) {
    super('invalid-doc-path', `refused document name ${JSON.stringify(name.slice(0, 200))}: ${reason}`)
  }
}

/**
 * Validates a document name (typically received from a peer) and returns it branded. Only the canonical
 * spelling is accepted: relative, POSIX separators, no empty, `.` or `..` segments, no control characters,
 * inside `root`, and tracked by `match`.
 */
export function normalizeDocPath(root: string, p: string, match: Matcher = createMatcher(DEFAULT_INCLUDE)): DocName {
  const bad = (reason: string): never => {
    throw new InvalidDocPathError(String(p), reason)
  }
  if (typeof p !== 'string' || p === '') bad('empty name')
  if (p.length > MAX_NAME) bad('name too long')
  if (p.includes('\0')) bad('contains a NUL byte')
  if (p.includes('\\')) bad('contains a backslash (names use / as separator)')
  if (/[\u0000-\u001f\u007f]/.test(p)) bad('contains a control character')
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) bad('absolute path')
  const segs = p.split('/')
  if (segs.includes('..')) bad('escapes the repository (..)')
  if (segs.some((s) => s === '' || s === '.')) bad('not in canonical form (empty or . segment)')
  if (hasIgnoredSegment(p)) bad('inside a directory ctxsync never tracks')
  const abs = path.resolve(root, ...segs)
  const rootAbs = path.resolve(root)
  if (abs !== rootAbs && !abs.startsWith(rootAbs + path.sep)) bad('escapes the repository')
  if (!match(p)) bad('not matched by the tracked globs')
  return p as DocName
}

/** Converts an absolute path under root to the repository-relative POSIX form used everywhere else. */
export function toRelPosix(root: string, abs: string): string {
  return path.relative(root, abs).split(path.sep).join('/')
}

/** Runs `fn` over `items` with at most `limit` in flight (keeps fd usage bounded on big repositories). */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

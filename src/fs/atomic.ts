/**
 * Reading and writing tracked YAML files.
 *
 * Writes go through write-file-atomic (temp file beside the target, fsync, rename), so an editor, a git
 * command or a crash never sees half a file; we then fsync the directory so the rename itself survives a
 * power cut. Reads classify content instead of throwing: a tracked name may hold a binary or non-UTF-8 file,
 * or be a symlink, and the caller has to warn and skip rather than fail the whole space.
 * Symlinks are refused both ways: following one could read or overwrite a file outside the repository.
 */
import fs from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import path from 'node:path'
import { CtxError } from '../errors.js'
import { sha256hex } from '../ids.js'
import { logger } from '../log.js'

const log = logger('fs:atomic')

/** Context files are small; anything bigger is almost certainly not one and is not loaded into memory. */
export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024

export type UnreadableReason = 'binary' | 'not-utf8' | 'symlink' | 'too-large' | 'not-a-file'

export interface TextFile {
  kind: 'text'
  text: string
  /** sha256 hex of the bytes on disk (equal to sha256 of `text` as UTF-8: decoding keeps a BOM). */
  hash: string
  size: number
  mtimeMs: number
}
export type ReadResult = TextFile | { kind: 'missing' } | { kind: 'unreadable'; reason: UnreadableReason }

export class SymlinkRefusedError extends CtxError {
  readonly path: string
  constructor(file: string) {
    super('symlink-refused', `${file} is a symbolic link; ctxsync does not write through links: replace it with a regular file`)
    this.path = file
  }
}

/** Decodes file bytes as strict UTF-8; NUL bytes mean binary even when they would decode. */
export function decodeText(bytes: Uint8Array): { ok: true; text: string } | { ok: false; reason: 'binary' | 'not-utf8' } {
  if (bytes.indexOf(0) !== -1) return { ok: false, reason: 'binary' }
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) }
  } catch {
    return { ok: false, reason: 'not-utf8' }
  }
}

export async function readTextFile(file: string, opts: { maxBytes?: number } = {}): Promise<ReadResult> {
  // A file rewritten while we read is read again; one that never settles is a caller-visible error.
  for (let attempt = 0; attempt < 20; attempt++) {
    let st: Stats
    try {
      st = await fs.lstat(file)
    } catch (e) {
      if (isGone(e)) return { kind: 'missing' }
      throw e
    }
    const r = await readChecked(file, st, opts.maxBytes ?? DEFAULT_MAX_BYTES)
    if (r !== 'changed') return r
    await new Promise((resolve) => setTimeout(resolve, 5 + attempt * 5))
  }
  throw new CtxError('file-unstable', `${file} kept changing while ctxsync read it; try again when it is no longer being written`)
}

/**
 * Reads a file whose lstat the caller already has and reports 'changed' when the file moved under us
 * (replaced by a rename, or written to while we read), so that the caller reads again later instead of
 * acting on a mix of two versions.
 */
export async function readChecked(file: string, before: Stats, maxBytes: number): Promise<ReadResult | 'changed'> {
  if (before.isSymbolicLink()) return { kind: 'unreadable', reason: 'symlink' }
  if (!before.isFile()) return { kind: 'unreadable', reason: 'not-a-file' }
  if (before.size > maxBytes) return { kind: 'unreadable', reason: 'too-large' }
  let bytes: Buffer
  try {
    bytes = await fs.readFile(file)
  } catch (e) {
    if (isGone(e)) return 'changed'
    throw e
  }
  let after: Stats
  try {
    after = await fs.lstat(file)
  } catch (e) {
    if (isGone(e)) return 'changed'
    throw e
  }
  if (!sameStat(before, after) || bytes.length !== after.size) return 'changed'
  const dec = decodeText(bytes)
  if (!dec.ok) return { kind: 'unreadable', reason: dec.reason }
  return { kind: 'text', text: dec.text, hash: sha256hex(bytes), size: bytes.length, mtimeMs: after.mtimeMs }
}

/** Same inode, size and change times: nothing wrote to or replaced the file in between. */
export function sameStat(a: Stats, b: Stats): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs
}

export interface WriteResult {
  hash: string
  size: number
}

/**
 * Atomically replaces (or creates) a tracked file with `text`, keeping an existing file's mode and creating
 * parent directories. Returns the content hash, which the caller keeps to recognise its own write when the
 * watcher reports it.
 */
export async function writeFileAtomic(file: string, text: string): Promise<WriteResult> {
  const bytes = Buffer.from(text, 'utf8')
  const existing = await fs.lstat(file).catch((e: unknown) => {
    if (isGone(e)) return null
    throw e
  })
  if (existing?.isSymbolicLink()) throw new SymlinkRefusedError(file)
  const dir = path.dirname(file)
  if (!existing) await fs.mkdir(dir, { recursive: true })
  // Loaded on first write: read-only commands (`status`) should not pay for it at startup.
  const { default: writeFileAtomicLib } = await import('write-file-atomic')
  await writeFileAtomicLib(file, bytes, { fsync: true })
  await syncDirQuietly(dir)
  log('wrote %s (%d bytes)', file, bytes.length)
  return { hash: sha256hex(bytes), size: bytes.length }
}

/** Removes a tracked file; false when it was already gone. */
export async function removeFile(file: string): Promise<boolean> {
  try {
    await fs.unlink(file)
  } catch (e) {
    if (isGone(e)) return false
    throw e
  }
  await syncDirQuietly(path.dirname(file))
  log('removed %s', file)
  return true
}

/** Directory fsync makes the rename durable; some file systems refuse it (EINVAL, EISDIR), which is fine. */
async function syncDirQuietly(dir: string): Promise<void> {
  let fh: FileHandle | undefined
  try {
    fh = await fs.open(dir, 'r')
    await fh.sync()
  } catch (e) {
    log('could not fsync %s: %s', dir, (e as Error).message)
  } finally {
    await fh?.close()
  }
}

export function isGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/**
 * Reading and writing tracked YAML files.
 *
 * Writes go through write-file-atomic (temp file beside the target, fsync, rename), so an editor, a git
 * command or a crash never sees half a file; we then fsync the directory so the rename itself survives a
 * power cut. Reads classify content instead of throwing: a tracked name may hold a binary or non-UTF-8 file,
 * or be a symlink, and the caller has to warn and skip rather than fail the whole space.
 * Symlinks are refused both ways: following one could read or overwrite a file outside the repository.
 * That holds for links to directories too, when the caller names the repository root (`within`).
 */
import fs from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { lstatSync, readFileSync, renameSync, type Stats } from 'node:fs'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { CtxError } from '../errors.js'
import { sha256hex } from '../ids.js'
import { logger } from '../debuglog.js'

const log = logger('fs:atomic')

/**
 * What this process read and wrote, for benchmarks and tests (`bench/remote-update-io.mjs`): whole reads
 * of a file's bytes, atomic file writes (renames), and sidecar meta records (counted by the stores).
 * Plain counters, cheap enough to keep on in production.
 */
export const ioCounts = { fileReads: 0, atomicWrites: 0, metaWrites: 0 }

/** Context files are small; anything bigger is almost certainly not one and is not loaded into memory. */
export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024
export const MAX_BYTES_ENV = 'CTXSYNC_MAX_FILE_BYTES'

/** The size limit for tracked files: CTXSYNC_MAX_FILE_BYTES when it is a sane number, else 8 MiB. */
export function maxFileBytes(): number {
  const v = Number(process.env[MAX_BYTES_ENV])
  return Number.isInteger(v) && v >= 1024 ? v : DEFAULT_MAX_BYTES
}

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

/** Where a tracked file lives: with `within` (the repository root), no directory below it may be a link. */
export interface Within {
  within?: string
}

/**
 * The first directory strictly between `root` and `file` that is a symbolic link (or `file`'s directory
 * when it is not under `root` at all), else null. A link to a directory would let a peer's update write —
 * and a local read send — a file outside the repository under a tracked name.
 */
export async function linkedParent(root: string, file: string): Promise<string | null> {
  const rel = path.relative(root, path.dirname(file))
  if (rel === '') return null
  if (rel.startsWith('..') || path.isAbsolute(rel)) return path.dirname(file)
  let dir = root
  for (const seg of rel.split(path.sep)) {
    dir = path.join(dir, seg)
    let st: Stats
    try {
      st = await fs.lstat(dir)
    } catch (e) {
      if (isGone(e)) return null // the rest does not exist yet: mkdir creates real directories
      throw e
    }
    if (st.isSymbolicLink()) return dir
  }
  return null
}

export async function readTextFile(file: string, opts: { maxBytes?: number } & Within = {}): Promise<ReadResult> {
  if (opts.within !== undefined && (await linkedParent(opts.within, file))) return { kind: 'unreadable', reason: 'symlink' }
  // A file rewritten while we read is read again; one that never settles is a caller-visible error.
  for (let attempt = 0; attempt < 20; attempt++) {
    let st: Stats
    try {
      st = await fs.lstat(file)
    } catch (e) {
      if (isGone(e)) return { kind: 'missing' }
      throw e
    }
    const r = await readChecked(file, st, opts.maxBytes ?? maxFileBytes())
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
    ioCounts.fileReads++
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

/** Refuses links (the file, or a directory on its way inside `within`) and creates missing parents. */
async function prepareWrite(file: string, text: string, opts: Within): Promise<{ bytes: Buffer; existing: Stats | null; dir: string }> {
  const linked = opts.within !== undefined ? await linkedParent(opts.within, file) : null
  if (linked) throw new SymlinkRefusedError(linked)
  const existing = await fs.lstat(file).catch((e: unknown) => {
    if (isGone(e)) return null
    throw e
  })
  if (existing?.isSymbolicLink()) throw new SymlinkRefusedError(file)
  const dir = path.dirname(file)
  if (!existing) await fs.mkdir(dir, { recursive: true })
  return { bytes: Buffer.from(text, 'utf8'), existing, dir }
}

export interface WriteResult {
  hash: string
  size: number
}

/**
 * Atomically replaces (or creates) a tracked file with `text`, keeping an existing file's mode (or setting
 * `mode`, from the temp file's creation on) and creating parent directories. Returns the content hash, which the caller keeps to recognise its own write when the
 * watcher reports it.
 */
export async function writeFileAtomic(file: string, text: string, opts: Within & { mode?: number } = {}): Promise<WriteResult> {
  const { bytes, dir } = await prepareWrite(file, text, opts)
  // Loaded on first write: read-only commands (`status`) should not pay for it at startup.
  const { default: writeFileAtomicLib } = await import('write-file-atomic')
  // With `mode`, write-file-atomic creates the temp file with it (open's third argument): a secret is 0600
  // from its first byte, not only after the rename.
  await writeFileAtomicLib(file, bytes, { fsync: true, ...(opts.mode !== undefined ? { mode: opts.mode } : {}) })
  ioCounts.atomicWrites++
  await syncDirQuietly(dir)
  log('wrote %s (%d bytes)', file, bytes.length)
  return { hash: sha256hex(bytes), size: bytes.length }
}

/** A checked write: done, or not done because the file held something else at the rename (`now`). */
export type WriteIfResult =
  | ({ kind: 'written' } & WriteResult)
  /**
   * `now`: what the file held instead (null: absent); its text only when the read was stable and it is
   * text ctxsync takes in (hash '' and no text for a directory, a link or a file over the size limit).
   */
  | { kind: 'changed'; now: { hash: string; text: string | null } | null }
  /** `hold` said no at the rename: nothing written (the caller writes again when it may). */
  | { kind: 'held' }

/**
 * Like `writeFileAtomic`, but only if the file still holds `expectHash` (null: still absent) at the moment
 * of the rename. The check and the rename run synchronously, back to back, after the slow part (temp file,
 * fsync): a save by an editor or agent that lands while we write is then almost never overwritten. Checked
 * earlier, with awaits in between, such a save was lost whenever it fell into the milliseconds the temp
 * file and its fsync take. That check reads the file anyway, so when it finds a save it reports it
 * (`changed`): the caller takes it in without reading it again. Its text is given only when the read was
 * stable (same inode, size and times before and after, as `readChecked`): half an editor's write is never
 * taken for a save.
 */
export async function writeFileAtomicIf(file: string, text: string, expectHash: string | null, opts: Within & { hold?: () => boolean } = {}): Promise<WriteIfResult> {
  const { bytes, existing, dir } = await prepareWrite(file, text, opts)
  // Named like write-file-atomic's temp files (`<name>.<hex>`): never matched by the tracked globs.
  const tmp = `${file}.${process.pid.toString(16)}${randomBytes(4).toString('hex')}`
  const fh = await fs.open(tmp, 'wx', existing ? existing.mode & 0o7777 : 0o666)
  try {
    await fh.writeFile(bytes)
    await fh.sync()
  } finally {
    await fh.close()
  }
  // Asked last, next to the rename: whoever else rewrites the file (git, for the caller) may have started
  // while the temp file was written and fsynced.
  if (opts.hold?.()) {
    await fs.unlink(tmp).catch(() => undefined)
    log('not writing %s: held', file)
    return { kind: 'held' }
  }
  const now = currentSync(file)
  if ((now?.hash ?? null) !== expectHash) {
    await fs.unlink(tmp).catch(() => undefined)
    log('not writing %s: changed on disk meanwhile', file)
    return { kind: 'changed', now }
  }
  renameSync(tmp, file)
  ioCounts.atomicWrites++
  await syncDirQuietly(dir)
  log('wrote %s (%d bytes, checked)', file, bytes.length)
  return { kind: 'written', hash: sha256hex(bytes), size: bytes.length }
}

function currentSync(file: string): { hash: string; text: string | null } | null {
  try {
    const before = lstatSync(file)
    // Not a file we would take in (a directory, a link, too large): something else than expected, no text.
    if (!before.isFile() || before.size > maxFileBytes()) return { hash: '', text: null }
    ioCounts.fileReads++
    const bytes = readFileSync(file)
    const after = lstatSync(file)
    const stable = sameStat(before, after) && bytes.length === after.size
    const dec = stable ? decodeText(bytes) : null
    return { hash: sha256hex(bytes), text: dec?.ok ? dec.text : null }
  } catch (e) {
    if (isGone(e)) return null
    throw e
  }
}

/** Removes a tracked file; false when it was already gone. */
export async function removeFile(file: string, opts: Within = {}): Promise<boolean> {
  const linked = opts.within !== undefined ? await linkedParent(opts.within, file) : null
  if (linked) throw new SymlinkRefusedError(linked)
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

/** A temp file of an atomic write (`<name>.<hex>`, ours or write-file-atomic's) older than this was abandoned. */
const STALE_TEMP_MS = 60_000

/**
 * Removes temp files that writes killed midway (kill -9, a power cut) left beside `files`, and beside any
 * file in `dirs`. A temp file is `<name>.<hex>` (ours and write-file-atomic's), and only one older than a
 * minute goes: a live write (ours, another ctxsync process's) takes milliseconds. Returns how many went.
 */
export async function sweepStaleTemps(files: string[], dirs: string[] = [], now = Date.now()): Promise<number> {
  const byDir = new Map<string, Set<string> | null>(dirs.map((d) => [d, null]))
  for (const f of files) {
    const dir = path.dirname(f)
    const bases = byDir.get(dir)
    if (bases === undefined) byDir.set(dir, new Set([path.basename(f)]))
    else bases?.add(path.basename(f))
  }
  let removed = 0
  for (const [dir, only] of byDir) {
    const names = await fs.readdir(dir).catch(() => [] as string[])
    const bases = only ?? new Set(names)
    for (const name of names) {
      const dot = name.lastIndexOf('.')
      if (dot <= 0 || !/^[0-9a-f]{6,}$/.test(name.slice(dot + 1)) || !bases.has(name.slice(0, dot))) continue
      const file = path.join(dir, name)
      const st = await fs.lstat(file).catch(() => null)
      if (!st?.isFile() || now - st.mtimeMs < STALE_TEMP_MS) continue
      if (await fs.unlink(file).then(() => true, () => false)) removed++
    }
  }
  return removed
}

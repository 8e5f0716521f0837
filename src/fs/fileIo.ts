/**
 * Small durable-file helpers shared by the sidecar store. Durability on POSIX needs both the file's data
 * (fsync) and its directory entry (fsync of the directory after a rename or create).
 */
import fs from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'

/** Marks temp files; anything carrying it in the store's directory is debris of an interrupted write. */
export const TMP_MARK = '.tmp-'
const HEAD_BYTES = 4200

/** Temp file in the same directory, fsync, rename over, fsync the directory: all or nothing. */
export async function replaceFileDurably(dir: string, file: string, data: Uint8Array): Promise<void> {
  const tmp = `${file}${TMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`
  const fh = await fs.open(tmp, 'wx', 0o644)
  try {
    await writeAll(fh, data, 0)
    await fh.sync()
  } catch (e) {
    await fh.close()
    await unlinkIfAny(tmp)
    throw e
  }
  await fh.close()
  await fs.rename(tmp, file)
  await syncDir(dir)
}

export async function writeAll(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done)
    done += bytesWritten
  }
}

/** The first bytes of a file: enough for any header. */
export async function readHead(file: string): Promise<Buffer> {
  const fh = await fs.open(file, 'r')
  try {
    const buf = Buffer.alloc(HEAD_BYTES)
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
}

export async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(file)
  } catch (e) {
    if (isNoEnt(e)) return null
    throw e
  }
}

export async function unlinkIfAny(file: string): Promise<void> {
  await fs.unlink(file).catch((e: unknown) => { if (!isNoEnt(e)) throw e })
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

export function isNoEnt(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT'
}

/**
 * The version store's file format: one append-only log per document under `.ctxsync/versions/`, so that
 * recording a version never rewrites anything (only `rewrite`, run by the thinning policy now and then,
 * replaces a log, atomically).
 *
 * A log is a sequence of frames, each `[u32 big-endian length][deflate-raw bytes]`; a frame holds one or more
 * records as JSON lines. A record carries its text either whole (`x: string`) or as a delta against the
 * record before it in the same log (`x: [prefix, suffix, middle]`: the lengths kept from the previous text's
 * start and end, and what replaces the rest) — one edit of a large file costs a few dozen bytes. Every
 * KEYFRAME_EVERY records one is whole, so a damaged frame loses only the records up to the next one.
 * A frame cut short by a crash ends the log where it starts: appends after it are still read (a new writer
 * starts with a whole record).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { deflateRawSync, inflateRawSync } from 'node:zlib'

export const KEYFRAME_EVERY = 64

/** Who made a version: a peer's id, name and kind. */
export type By = [id: string, name: string, kind: 'human' | 'agent']

/**
 * How a version came: `local` a save on this machine, `remote` peers' changes written here, `restore`/`undo`
 * those commands' edits, `start` the first version of a file this store saw, `settled` a text nobody edited
 * (git, a restart).
 */
export type Via = 'local' | 'remote' | 'restore' | 'undo' | 'start' | 'settled'

export interface VersionMeta {
  id: string
  /** ms since the epoch */
  t: number
  by: By[]
  via: Via
  /** sha256 of the text, 16 hex digits; '' for a deleted file */
  h: string
  /** the change this one undid, for `undo` */
  of?: string
}

export interface Version extends VersionMeta {
  doc: string
  /** null: the file was deleted */
  text: string | null
}

type Delta = [prefix: number, suffix: number, middle: string]
interface Stored extends VersionMeta { x: string | Delta | null }

export const logFile = (dir: string, doc: string): string => path.join(dir, encodeURIComponent(doc) + '.vlog')
export const docOfLog = (file: string): string | null => (file.endsWith('.vlog') ? decodeURIComponent(file.slice(0, -5)) : null)

export function delta(prev: string, next: string): Delta {
  const max = Math.min(prev.length, next.length)
  let p = 0
  while (p < max && prev.charCodeAt(p) === next.charCodeAt(p)) p++
  let s = 0
  while (s < max - p && prev.charCodeAt(prev.length - 1 - s) === next.charCodeAt(next.length - 1 - s)) s++
  return [p, s, next.slice(p, next.length - s)]
}

const applyDelta = (prev: string, [p, s, mid]: Delta): string => prev.slice(0, p) + mid + prev.slice(prev.length - s)

/** Encodes versions into records, each a delta against the one before (whole every KEYFRAME_EVERY). */
export class Encoder {
  #prev: string | null = null
  #since = KEYFRAME_EVERY

  constructor(prev: string | null = null, sinceKeyframe = KEYFRAME_EVERY) {
    this.#prev = prev
    this.#since = sinceKeyframe
  }

  record(v: VersionMeta & { text: string | null }): string {
    const { text, ...meta } = v
    let x: Stored['x'] = text
    if (text !== null && this.#prev !== null && this.#since < KEYFRAME_EVERY) {
      x = delta(this.#prev, text)
      this.#since++
    } else this.#since = 0
    this.#prev = text
    return JSON.stringify({ ...meta, x })
  }
}

export function frame(lines: string[]): Buffer {
  const body = deflateRawSync(Buffer.from(lines.join('\n'), 'utf8'))
  const head = Buffer.alloc(4)
  head.writeUInt32BE(body.length)
  return Buffer.concat([head, body])
}

/** Every version a log holds, oldest first; a damaged frame drops the deltas that depend on it. */
export function decode(doc: string, buf: Buffer): { versions: Version[]; sinceKeyframe: number } {
  const versions: Version[] = []
  let prev: string | null = null
  let lost = false
  let since = KEYFRAME_EVERY
  for (let at = 0; at + 4 <= buf.length; ) {
    const len = buf.readUInt32BE(at)
    if (at + 4 + len > buf.length) break
    let lines: string[]
    try {
      lines = inflateRawSync(buf.subarray(at + 4, at + 4 + len)).toString('utf8').split('\n')
    } catch {
      lines = []
      lost = true
    }
    at += 4 + len
    for (const line of lines) {
      let r: Stored
      try {
        r = JSON.parse(line) as Stored
      } catch {
        lost = true
        continue
      }
      const { x, ...meta } = r
      if (Array.isArray(x)) {
        since++
        if (lost || prev === null) continue
        prev = applyDelta(prev, x)
      } else {
        since = 0
        prev = x
        lost = false
      }
      versions.push({ ...meta, doc, text: prev })
    }
  }
  return { versions, sinceKeyframe: since }
}

export async function readLog(dir: string, doc: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(logFile(dir, doc))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
}

export async function readVersionsOf(dir: string, doc: string): Promise<Version[]> {
  const buf = await readLog(dir, doc)
  return buf ? decode(doc, buf).versions : []
}

/** The documents that have a log. */
export async function loggedDocs(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[])
  return names.map(docOfLog).filter((d): d is string => d !== null).sort()
}

/** Replaces a log with `versions` (thinning), in larger frames: they compress far better than one per record. */
export async function rewrite(dir: string, doc: string, versions: Version[]): Promise<number> {
  const enc = new Encoder()
  const frames: Buffer[] = []
  for (let i = 0; i < versions.length; i += KEYFRAME_EVERY) frames.push(frame(versions.slice(i, i + KEYFRAME_EVERY).map((v) => enc.record(v))))
  const out = Buffer.concat(frames)
  const file = logFile(dir, doc)
  const tmp = `${file}.${process.pid}.tmp`
  await fs.writeFile(tmp, out)
  await fs.rename(tmp, file)
  return out.length
}

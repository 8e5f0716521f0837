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
import { diffLines } from 'diff'
import { sha256hex } from '../../ids.js'

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
  /** ms since the epoch */
  t: number
  by: By[]
  via: Via
  /** the change this one undid, for `undo` */
  of?: string
}

export interface Version extends VersionMeta {
  doc: string
  /** null: the file was deleted */
  text: string | null
  /**
   * The change's id and the text's hash are not stored (24 hex digits of entropy per record, more than the
   * rest of a delta): both follow from the document, the time and the text, so they read back the same
   * after any rewrite.
   */
  id: string
  /** sha256 of the text, 16 hex digits; '' for a deleted file */
  h: string
}

export const textHash = (text: string | null): string => (text === null ? '' : sha256hex(text).slice(0, 16))
export const changeId = (doc: string, t: number, h: string): string => sha256hex(`${doc}\0${t}\0${h}`).slice(0, 8)

type Delta = [prefix: number, suffix: number, middle: string]
/** Several changes far apart (a thinned log's versions are many edits apart): [offset in prev, deleted, inserted]. */
type Hunks = Array<[at: number, del: number, ins: string]>
interface Stored extends VersionMeta { x: string | Delta | Hunks | null }

/** Above this many characters between the first and last change, a line diff gives the hunks instead. */
const WIDE_DELTA = 256

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

function applyDelta(prev: string, x: Delta | Hunks): string {
  if (!Array.isArray(x[0])) {
    const [p, s, mid] = x as Delta
    return prev.slice(0, p) + mid + prev.slice(prev.length - s)
  }
  let out = ''
  let at = 0
  for (const [pos, del, ins] of x as Hunks) {
    out += prev.slice(at, pos) + ins
    at = pos + del
  }
  return out + prev.slice(at)
}

function hunks(prev: string, next: string): Hunks {
  const out: Hunks = []
  let at = 0
  for (const c of diffLines(prev, next)) {
    const last = out.at(-1)
    if (c.added) {
      if (last && last[0] + last[1] === at) last[2] += c.value
      else out.push([at, 0, c.value])
    } else if (c.removed) {
      if (last && last[0] + last[1] === at) last[1] += c.value.length
      else out.push([at, c.value.length, ''])
      at += c.value.length
    } else at += c.value.length
  }
  return out
}

/** The smaller of a prefix/suffix delta and, when that spans much, a line diff's hunks. */
function encodeDelta(prev: string, next: string): Delta | Hunks {
  const d = delta(prev, next)
  if (d[2].length <= WIDE_DELTA && prev.length - d[0] - d[1] <= WIDE_DELTA) return d
  const h = hunks(prev, next)
  return JSON.stringify(h).length < JSON.stringify(d).length ? h : d
}

/** Encodes versions into records, each a delta against the one before (whole every KEYFRAME_EVERY). */
export class Encoder {
  #prev: string | null = null
  #since = KEYFRAME_EVERY

  constructor(prev: string | null = null, sinceKeyframe = KEYFRAME_EVERY) {
    this.#prev = prev
    this.#since = sinceKeyframe
  }

  /**
   * `whole`: true, a keyframe (the first record of a rewritten log's frame); false, a delta whatever the
   * count (the rest of that frame); undefined, every KEYFRAME_EVERY (appends).
   */
  record(v: VersionMeta & { text: string | null }, whole?: boolean): string {
    const { t, by, via, of, text } = v
    const meta: VersionMeta = { t, by, via, ...(of ? { of } : {}) }
    let x: Stored['x'] = text
    if (whole !== true && text !== null && this.#prev !== null && (whole === false || this.#since < KEYFRAME_EVERY)) {
      x = encodeDelta(this.#prev, text)
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
      const h = textHash(prev)
      versions.push({ ...meta, doc, text: prev, h, id: changeId(doc, meta.t, h) })
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

/** Records per frame of a rewritten log: one whole text per frame, deltas after it, compressed together. */
export const REWRITE_FRAME = 1024

/**
 * Replaces a log with `versions` (thinning, repacking), in large frames: records compressed together cost a
 * fraction of one record per frame. A log is rewritten only by the writer, atomically (a rename).
 */
export async function rewrite(dir: string, doc: string, versions: Version[]): Promise<number> {
  const enc = new Encoder()
  const frames: Buffer[] = []
  for (let i = 0; i < versions.length; i += REWRITE_FRAME) frames.push(frame(versions.slice(i, i + REWRITE_FRAME).map((v, k) => enc.record(v, k === 0))))
  const out = Buffer.concat(frames)
  const file = logFile(dir, doc)
  const tmp = `${file}.${process.pid}.tmp`
  await fs.writeFile(tmp, out)
  await fs.rename(tmp, file)
  return out.length
}

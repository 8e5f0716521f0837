/**
 * The version store's file format: one append-only log per document under `.ctxsync/versions/`, so that
 * recording a version never rewrites anything (only compaction, compact.ts, run by the thinning policy now
 * and then, replaces a log, atomically).
 *
 * A log is a sequence of frames, each `[u32 big-endian length][body]`: deflate-raw for an append, brotli for
 * a compacted frame (the length word's top bit). A frame holds one or more records as JSON lines. A record
 * carries its text either whole (`x: string`, `x: null` for a deleted file) or as a delta against the record
 * before it in the same log (delta.ts: `x: [prefix, suffix, middle]` or char hunks for appends, `l: [...]`
 * line hunks in compacted frames) — one edit of a large file costs a few dozen bytes. Every KEYFRAME_EVERY
 * appended records one is whole, so a damaged frame loses only the records up to the next one. Its time is
 * `t` (ms since the epoch) or `d` (ms since the record before it in the same frame).
 * A frame cut short by a crash ends the log where it starts: appends after it are still read (a new writer
 * starts with a whole record).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { brotliDecompressSync, deflateRawSync, inflateRawSync } from 'node:zlib'
import { applyDelta, applyLines, encodeDelta, type Delta, type Hunks, type LineHunk } from './delta.js'
import { sha256hex } from '../../ids.js'

export const KEYFRAME_EVERY = 64

/** Who made a version: a peer's id, name and kind. */
export type By = [id: string, name: string, kind: 'human' | 'agent']

/**
 * How a version came: `local` a save on this machine, `remote` peers' changes written here, `restore`/`undo`
 * those commands' edits, `start` the first version of a file this store saw, `settled` a text nobody edited
 * (git, a restart), `git` a commit's changes taken in from git (here or by the peer that pulled it), `resolve`
 * a conflict resolved (here or on a peer): `by` names who wrote the change (the commit's author, the chosen
 * value's writer), never the peer that took it in.
 */
export type Via = 'local' | 'remote' | 'restore' | 'undo' | 'start' | 'settled' | 'git' | 'resolve'

export interface VersionMeta {
  /** ms since the epoch */
  t: number
  by: By[]
  via: Via
  /** the change this one undid, for `undo` */
  of?: string
  /** ms: when `by` wrote it, when that is not when it was taken in (a commit's author time, a chosen value's time) */
  at?: number
  /** who kept the chosen value, for `resolve` */
  kept?: By
}

/** The optional fields of a record's meta, as stored (records written by the recorder and by compaction alike). */
export const extraMeta = (v: VersionMeta): Partial<VersionMeta> => ({ ...(v.of ? { of: v.of } : {}), ...(v.at ? { at: v.at } : {}), ...(v.kept ? { kept: v.kept } : {}) })

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

interface Stored extends Partial<VersionMeta> {
  x?: string | Delta | Hunks | null
  l?: LineHunk[]
  /** ms since the record before it in the same frame (a compacted frame's records after its first) */
  d?: number
}

export const logFile = (dir: string, doc: string): string => path.join(dir, encodeURIComponent(doc) + '.vlog')
export const docOfLog = (file: string): string | null => (file.endsWith('.vlog') ? decodeURIComponent(file.slice(0, -5)) : null)

/** Encodes appended versions into records, each a delta against the one before (whole every KEYFRAME_EVERY). */
export class Encoder {
  #prev: string | null = null
  #since = KEYFRAME_EVERY

  constructor(prev: string | null = null, sinceKeyframe = KEYFRAME_EVERY) {
    this.#prev = prev
    this.#since = sinceKeyframe
  }

  record(v: VersionMeta & { text: string | null }): string {
    const { t, by, via, text } = v
    const meta: VersionMeta = { t, by, via, ...extraMeta(v) }
    let x: Stored['x'] = text
    if (text !== null && this.#prev !== null && this.#since < KEYFRAME_EVERY) {
      x = encodeDelta(this.#prev, text)
      this.#since++
    } else this.#since = 0
    this.#prev = text
    return JSON.stringify({ ...meta, x })
  }
}

/** The length word's top bit: the frame is brotli (a compacted frame), not deflate-raw (an append). */
const BROTLI_BIT = 0x80000000

export function frame(lines: string[]): Buffer {
  return framed(deflateRawSync(Buffer.from(lines.join('\n'), 'utf8')), false)
}

export function framed(body: Buffer, brotli: boolean): Buffer {
  const head = Buffer.alloc(4)
  head.writeUInt32BE((body.length | (brotli ? BROTLI_BIT : 0)) >>> 0)
  return Buffer.concat([head, body])
}

/** Where a frame lies in its log and which of the decoded versions it gave (compact.ts reuses frames). */
export interface FrameInfo {
  start: number
  end: number
  brotli: boolean
  /** index in `versions` of the frame's first version */
  first: number
  /** versions decoded from it, of `records` */
  count: number
  records: number
  /** its first record is whole (needs no version before it) */
  whole: boolean
}

export interface Decoded { versions: Version[]; sinceKeyframe: number; frames: FrameInfo[] }

/** Every version a log holds, oldest first; a damaged frame drops the deltas that depend on it. */
export function decode(doc: string, buf: Buffer): Decoded {
  const versions: Version[] = []
  const frames: FrameInfo[] = []
  let prev: string | null = null
  let lost = false
  let since = KEYFRAME_EVERY
  for (let at = 0; at + 4 <= buf.length; ) {
    const head = buf.readUInt32BE(at)
    const brotli = (head & BROTLI_BIT) !== 0
    const len = head & ~BROTLI_BIT
    if (at + 4 + len > buf.length) break
    let lines: string[]
    try {
      const body = buf.subarray(at + 4, at + 4 + len)
      lines = (brotli ? brotliDecompressSync(body) : inflateRawSync(body)).toString('utf8').split('\n')
    } catch {
      lines = []
      lost = true
    }
    const f: FrameInfo = { start: at, end: at + 4 + len, brotli, first: versions.length, count: 0, records: lines.length, whole: false }
    frames.push(f)
    at = f.end
    let t = 0
    for (const [k, line] of lines.entries()) {
      let r: Stored
      try {
        r = JSON.parse(line) as Stored
      } catch {
        lost = true
        continue
      }
      const { x, l, d, ...meta } = r
      t = meta.t ?? t + (d ?? 0)
      if (l || Array.isArray(x)) {
        since++
        if (lost || prev === null) continue
        prev = l ? applyLines(prev, l) : applyDelta(prev, x as Delta | Hunks)
      } else {
        since = 0
        prev = x ?? null
        lost = false
        if (k === 0) f.whole = true
      }
      const h = textHash(prev)
      versions.push({ ...(meta as VersionMeta), t, doc, text: prev, h, id: changeId(doc, t, h) })
      f.count++
    }
  }
  return { versions, sinceKeyframe: since, frames }
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

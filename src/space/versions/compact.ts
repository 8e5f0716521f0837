/**
 * Compaction: the only rewrite of a version log, run by the writer after thinning (recorder.ts `thinLog`,
 * every few hundred appends), never on the live path. Appends stay small deflate frames, one record each;
 * compaction repacks the versions kept into large brotli frames (`REWRITE_FRAME` records), where:
 *
 * - each record is a line delta against the version kept before it (delta.ts `LineHunks`), across frame
 *   boundaries too; only the first record of every `KEY_FRAMES`-th frame is whole. A thinned log's
 *   versions are an hour or a day of edits apart, so its deltas name many places; line counts and the
 *   characters that differ are what a compressor with a large window and context modelling (brotli) turns
 *   into a few bytes each, where deflate's 32 KiB window and a whole text per frame cost 2–3 times as much.
 * - times are ms since the record before in the same frame (the first record's is whole).
 * - a frame whose versions (and the version its first delta is against) are the same as one in the log
 *   being replaced is copied, not compressed again: the old part of a log changes seldom (thinning moves
 *   versions across the 1-day and 31-day lines), and brotli at this quality costs ~0.5 µs a byte. It runs
 *   in libuv's thread pool, so the daemon's event loop never waits for it.
 *
 * A damaged frame loses the versions up to the next whole record (at most KEY_FRAMES frames); the log is
 * replaced atomically (a rename), so readers see the old log or the new one.
 */
import fs from 'node:fs/promises'
import { promisify } from 'node:util'
import { brotliCompress, constants } from 'node:zlib'
import { encodeDelta, lineDelta } from './delta.js'
import { extraMeta, framed, logFile, type Decoded, type Version } from './store.js'

/** Records per compacted frame: compressed together, a record costs a fraction of what it costs alone. */
export const REWRITE_FRAME = 1024
/** Every this many frames, the first record is whole (how far a damaged frame's loss reaches). */
export const KEY_FRAMES = 4

const compress = promisify(brotliCompress)
const BROTLI = {
  [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
  [constants.BROTLI_PARAM_QUALITY]: 10,
  [constants.BROTLI_PARAM_LGWIN]: 22,
}

/** Records diffed between two turns of the event loop: a daemon's saves never wait long for compaction. */
const SLICE = 32
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** The records of one frame; `before` is the version kept before its first (null: none, or `whole`). */
export async function frameRecords(vs: Version[], before: Version | null, whole: boolean): Promise<string[]> {
  let prev = whole || !before ? null : before.text
  let pt: number | null = null
  const out: string[] = []
  for (const v of vs) {
    if (out.length % SLICE === SLICE - 1) await turn()
    const time = pt === null ? { t: v.t } : { d: v.t - pt }
    let body: object = { x: v.text }
    if (prev !== null && v.text !== null) {
      const l = lineDelta(prev, v.text)
      body = l ? { l } : { x: encodeDelta(prev, v.text) }
    }
    prev = v.text
    pt = v.t
    out.push(JSON.stringify({ ...time, by: v.by, via: v.via, ...extraMeta(v), ...body }))
  }
  return out
}

/** The same version, as a record would carry it (time, text, authors, how it came). */
const same = (a: Version | null | undefined, b: Version | null | undefined): boolean =>
  !!a && !!b && a.t === b.t && a.h === b.h && a.via === b.via && JSON.stringify([a.by, extraMeta(a)]) === JSON.stringify([b.by, extraMeta(b)])

/** The bytes of a frame of `old` that holds exactly `chunk`, encoded as this compaction would. */
function reusable(old: Decoded & { buf: Buffer }, byFirst: Map<string, Decoded['frames'][number]>, chunk: Version[], before: Version | null, whole: boolean): Buffer | null {
  const f = byFirst.get(`${chunk[0]!.t}:${chunk[0]!.h}`)
  if (!f || !f.brotli || f.count !== chunk.length || f.records !== f.count || f.whole !== whole) return null
  for (let k = 0; k < chunk.length; k++) if (!same(old.versions[f.first + k], chunk[k])) return null
  if (!whole && !same(old.versions[f.first - 1], before)) return null
  return old.buf.subarray(f.start, f.end)
}

export interface Compacted { bytes: number; frames: number; reused: number }

/**
 * Replaces `doc`'s log with `versions` (oldest first), atomically. `old`: the log being replaced, decoded,
 * whose frames are copied where they hold the same versions. `per`: records per frame (smaller in tests).
 */
export async function rewrite(dir: string, doc: string, versions: Version[], old?: Decoded & { buf: Buffer }, per = REWRITE_FRAME): Promise<Compacted> {
  const byFirst = new Map((old?.frames ?? []).filter((f) => f.count > 0).map((f) => [`${old!.versions[f.first]!.t}:${old!.versions[f.first]!.h}`, f]))
  const out: Buffer[] = []
  let reused = 0
  for (let i = 0, c = 0; i < versions.length; i += per, c++) {
    const chunk = versions.slice(i, i + per)
    const before = versions[i - 1] ?? null
    const whole = c % KEY_FRAMES === 0 || before === null || before.text === null || chunk[0]!.text === null
    const copy = old ? reusable(old, byFirst, chunk, before, whole) : null
    if (copy) {
      out.push(copy)
      reused++
      continue
    }
    const text = Buffer.from((await frameRecords(chunk, before, whole)).join('\n'), 'utf8')
    out.push(framed(await compress(text, { params: { ...BROTLI, [constants.BROTLI_PARAM_SIZE_HINT]: text.length } }), true))
  }
  const buf = Buffer.concat(out)
  const file = logFile(dir, doc)
  const tmp = `${file}.${process.pid}.tmp`
  await fs.writeFile(tmp, buf)
  await fs.rename(tmp, file)
  return { bytes: buf.length, frames: out.length, reused }
}

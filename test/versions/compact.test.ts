/**
 * Thinning and compaction (src/space/versions/compact.ts): every version a compacted log keeps reads back
 * byte-exact — through line deltas across brotli frames, deleted files, texts without a last newline or with
 * CRLF, whole records every KEY_FRAMES frames — and a compaction that changes nothing copies its frames.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { decode, logFile, readLog, readVersionsOf, textHash, type By, type Version } from '../../src/space/versions/store.js'
import { KEY_FRAMES, rewrite } from '../../src/space/versions/compact.js'
import { DEFAULT_POLICY, thin } from '../../src/space/versions/policy.js'
import { VersionBook } from '../../src/space/versions/recorder.js'
import { mulberry32 } from '../helpers/random.js'

const H = 3_600_000
const me: By = ['p-1', 'ada', 'human']
const agent: By = ['p-2', 'claude', 'agent']
/** Records per frame here: small, so that a few hundred versions span several frames and a keyframe. */
const PER = 40
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-compact-'))

/** Texts as a todos file goes through them: several fields a step, items added and removed, odd endings. */
function texts(n: number, seed: number): Array<string | null> {
  const rng = mulberry32(seed)
  const items = Array.from({ length: 30 }, (_, k) => ({ id: `T-${k}`, status: 'open', title: `task ${k}` }))
  const out: Array<string | null> = []
  for (let i = 0; i < n; i++) {
    for (let e = 0; e < 1 + Math.floor(rng() * 14); e++) {
      const it = items[Math.floor(rng() * items.length)]!
      if (rng() < 0.5) it.status = ['open', 'doing', 'done', 'blocked'][Math.floor(rng() * 4)]!
      else it.title = `task ${it.id} rev ${i}`
    }
    if (rng() < 0.05) items.splice(Math.floor(rng() * items.length), 1)
    if (rng() < 0.05) items.push({ id: `N-${i}`, status: 'new', title: 'added' })
    const eol = i % 97 === 50 ? '\r\n' : '\n'
    let text = `# todos${eol}todos:${eol}` + items.map((x) => `  - id: ${x.id}${eol}    status: ${x.status}${eol}    title: "${x.title}"${eol}`).join('')
    if (i % 13 === 7) text = text.trimEnd() // no last newline
    out.push(i % 211 === 100 ? null : i % 211 === 101 ? '' : text)
  }
  return out
}

function versions(ts: Array<string | null>, t0: number, step: number): Version[] {
  return ts.map((text, i) => {
    const h = textHash(text)
    return { doc: 'd.yaml', id: '', h, t: t0 + i * step, by: [i % 3 ? me : agent], via: i % 3 ? 'local' : 'remote', text }
  })
}

describe('compaction', () => {
  it('reads back every version byte-exact across frames, keyframes, deletions and line endings', async () => {
    const dir = tmp()
    const vs = versions(texts(PER * (KEY_FRAMES + 1) + 17, 7), 1_000_000, 1000)
    const c = await rewrite(dir, 'd.yaml', vs, undefined, PER)
    expect(c.frames).toBe(KEY_FRAMES + 2)
    const back = await readVersionsOf(dir, 'd.yaml')
    expect(back.length).toBe(vs.length)
    for (let i = 0; i < vs.length; i++) {
      expect(back[i]!.text, `version ${i}`).toBe(vs[i]!.text)
      expect([back[i]!.t, back[i]!.h, back[i]!.via, back[i]!.by]).toEqual([vs[i]!.t, vs[i]!.h, vs[i]!.via, vs[i]!.by])
    }
    // a compaction that keeps the same versions copies every frame
    const buf = (await readLog(dir, 'd.yaml'))!
    const again = await rewrite(dir, 'd.yaml', back, { ...decode('d.yaml', buf), buf }, PER)
    expect(again.reused).toBe(again.frames)
    expect(Buffer.compare((await readLog(dir, 'd.yaml'))!, buf)).toBe(0)
  })

  it('a damaged compacted frame loses only the versions up to the next whole record', async () => {
    const dir = tmp()
    const vs = versions(texts(PER * (KEY_FRAMES + 1), 3).map((t) => t ?? 'x: 1\n'), 1_000_000, 1000)
    await rewrite(dir, 'd.yaml', vs, undefined, PER)
    const buf = (await readLog(dir, 'd.yaml'))!
    const f = decode('d.yaml', buf).frames[1]!
    buf[f.start + 40] ^= 0xff
    const back = decode('d.yaml', buf).versions
    // frames 1..KEY_FRAMES-1 chain from the damaged one; frame KEY_FRAMES starts whole again
    expect(back.length).toBe(2 * PER)
    expect(back.slice(0, PER).map((v) => v.text)).toEqual(vs.slice(0, PER).map((v) => v.text))
    expect(back.slice(-PER).map((v) => v.text)).toEqual(vs.slice(-PER).map((v) => v.text))
  })

  it('the writer thins by the policy and keeps every kept version exact; old frames are copied', async () => {
    const dir = tmp()
    const book = new VersionBook({ dir, config: path.join(dir, 'none.yaml'), author: { id: 'p-1', name: 'ada', kind: 'human' }, say: () => {}, guardFile: path.join(dir, 'guard.json') })
    const now = Date.now()
    const ts = texts(1500, 11).map((t) => t ?? 'gone: true\n')
    // versions 38 minutes apart, the 1-day line half-way between two: the writer's own thinning (at the
    // real time, seconds later) and the pass below keep the same
    const step = (40 * 24 * H) / ts.length
    const t0 = now - 40 * 24 * H
    const pushed = versions(ts, t0, step).map((v, i) => ({ ...v, t: Math.round(t0 + i * step) }))
    // pushed in batches, as saves come: the writer thins every few hundred appends on its own
    for (const [i, v] of pushed.entries()) {
      book.push({ doc: 'd.yaml', text: v.text, t: v.t, by: v.by, via: v.via })
      if (i % 50 === 49) await book.flushed()
    }
    await book.flushed()
    await book.thinLog('d.yaml', now)
    const back = await readVersionsOf(dir, 'd.yaml')
    const byT = new Map(pushed.map((v) => [v.t, v.text]))
    for (const v of back) expect(v.text, `version at ${v.t}`).toBe(byT.get(v.t))
    expect(back.at(-1)!.text).toBe(pushed.at(-1)!.text)
    // what the policy keeps, as one pass over every version would keep it (texts equal in a row are one version)
    const distinct = pushed.filter((v, i) => i === 0 || v.h !== pushed[i - 1]!.h)
    expect(back.map((v) => v.t)).toEqual(thin(distinct, now, DEFAULT_POLICY).map((v) => v.t))
    expect(back.length).toBeLessThan(pushed.length * 0.6)
    // nothing new: a second compaction copies every frame and leaves the bytes as they were
    const before = fs.readFileSync(logFile(dir, 'd.yaml'))
    await book.thinLog('d.yaml', now)
    expect(Buffer.compare(fs.readFileSync(logFile(dir, 'd.yaml')), before)).toBe(0)
  })
})

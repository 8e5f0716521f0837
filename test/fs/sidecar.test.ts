/**
 * FileDocStore crash safety: torn tails, corruption, interrupted compactions, and a writer process killed
 * with SIGKILL at random moments while readers load.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { asDocName } from '../../src/ids.js'
import { FileDocStore, fileKey } from '../../src/fs/sidecar.js'
import { SidecarCorruptError } from '../../src/fs/StorageAdapterInterface.js'
import { encodeHeader, LOG_MAGIC, parseLog } from '../../src/fs/sidecarFormat.js'
import { prng, removeTmpDirs, sleep, startChild, testSeed, tmpDir } from './helpers.js'

afterAll(removeTmpDirs)

const DOC = asDocName('.rhema/todos.yaml')

async function storeWith(n: number, opts: { meta?: boolean } = {}): Promise<{ dir: string; updates: Uint8Array[]; logFile: string; snapFile: string }> {
  const dir = path.join(await tmpDir(), 'docs')
  const store = new FileDocStore({ dir })
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < n; i++) doc.getArray('a').push([`value ${i} `.repeat(1 + (i % 5))])
  for (const u of updates) await store.append(DOC, u)
  if (opts.meta) await store.writeMeta(DOC, { baseHash: 'm' })
  await store.close()
  return { dir, updates, logFile: path.join(dir, `${fileKey(DOC)}.log`), snapFile: path.join(dir, `${fileKey(DOC)}.snap`) }
}

const hex = (us: Uint8Array[]): string[] => us.map((u) => Buffer.from(u).toString('hex'))
const values = (updates: Uint8Array[]): number[] => {
  const d = new Y.Doc()
  for (const u of updates) Y.applyUpdate(d, u)
  return d.getArray<number>('n').toArray()
}

describe('FileDocStore: torn tails and corruption', () => {
  it('drops a torn last record at every byte offset, with a warning, keeping earlier records', async () => {
    const { dir, updates, logFile } = await storeWith(6)
    const full = await fs.readFile(logFile)
    const lastStart = parseLog(full).records.at(-1)!.offset
    const store = new FileDocStore({ dir })
    for (let cut = lastStart + 1; cut < full.length; cut++) {
      await fs.writeFile(logFile, full.subarray(0, cut))
      const loaded = await store.load(DOC)
      expect(hex(loaded!.updates)).toEqual(hex(updates.slice(0, -1)))
      expect(loaded!.warnings.join()).toMatch(/torn last log record/)
    }
    // A writer cuts the torn tail off before appending, so the new record is not lost behind it.
    await store.append(DOC, updates.at(-1)!)
    const loaded = await store.load(DOC)
    expect(hex(loaded!.updates)).toEqual(hex(updates))
    expect(loaded!.warnings).toEqual([])
    await store.close()
  })

  it('treats a zero-filled tail (file extended, data not written) as torn', async () => {
    const { dir, updates, logFile } = await storeWith(3)
    await fs.appendFile(logFile, Buffer.alloc(300))
    const loaded = await new FileDocStore({ dir }).load(DOC)
    expect(hex(loaded!.updates)).toEqual(hex(updates))
    expect(loaded!.warnings).toHaveLength(1)
  })

  it('throws SidecarCorruptError for a flipped byte anywhere before the last record', async () => {
    const { dir, logFile } = await storeWith(5, { meta: true })
    const full = await fs.readFile(logFile)
    const lastStart = parseLog(full).records.at(-1)!.offset
    const store = new FileDocStore({ dir })
    for (let pos = 0; pos < lastStart; pos++) {
      const bad = Buffer.from(full)
      bad[pos] = bad[pos]! ^ 0x5a
      await fs.writeFile(logFile, bad)
      await expect(store.load(DOC), `flipped byte ${pos}`).rejects.toBeInstanceOf(SidecarCorruptError)
    }
  })

  it('throws for a damaged complete last record, bad magic, and an unknown format version', async () => {
    const { dir, logFile } = await storeWith(3)
    const full = await fs.readFile(logFile)
    const store = new FileDocStore({ dir })
    const bad = Buffer.from(full)
    bad[bad.length - 6] = bad[bad.length - 6]! ^ 1
    await fs.writeFile(logFile, bad)
    await expect(store.load(DOC)).rejects.toThrow(/checksum/)
    await fs.writeFile(logFile, Buffer.concat([Buffer.from('JUNK'), full.subarray(4)]))
    await expect(store.load(DOC)).rejects.toThrow(/magic/)
    const v2 = Buffer.from(encodeHeader(LOG_MAGIC, 0, DOC))
    v2.writeUInt16LE(2, 4)
    await fs.writeFile(logFile, Buffer.concat([v2, full.subarray(v2.length)]))
    await expect(store.load(DOC)).rejects.toThrow(/format version 2; this ctxsync reads version 1/)
    // Appending on top of a corrupt log is refused too: the caller must rebuild (remove + compact).
    await expect(store.append(DOC, new Uint8Array([0]))).rejects.toBeInstanceOf(SidecarCorruptError)
    await store.remove(DOC)
    await store.compact(DOC, new Uint8Array([0, 0]), { rebuilt: true })
    expect((await store.load(DOC))!.meta).toEqual({ rebuilt: true })
    await store.close()
  })

  it('throws for a damaged or undecodable snapshot', async () => {
    const { dir, updates, snapFile } = await storeWith(8)
    const store = new FileDocStore({ dir })
    const d = new Y.Doc()
    for (const u of updates) Y.applyUpdate(d, u)
    await store.compact(DOC, Y.encodeStateAsUpdate(d), { baseHash: 'h' })
    const snap = await fs.readFile(snapFile)
    const flipped = Buffer.from(snap)
    flipped[snap.length - 3] = flipped[snap.length - 3]! ^ 0xff
    await fs.writeFile(snapFile, flipped)
    await expect(store.load(DOC)).rejects.toThrow(/snapshot checksum/)
    await fs.writeFile(snapFile, snap.subarray(0, snap.length - 10))
    await expect(store.load(DOC)).rejects.toBeInstanceOf(SidecarCorruptError)
    // Valid frame and checksum around a body that is not brotli data.
    const { decodeSnapshotFile, encodeSnapshotFile, Codec } = await import('../../src/fs/sidecarFormat.js')
    const frame = decodeSnapshotFile(snap)
    await fs.writeFile(snapFile, encodeSnapshotFile(frame.header.generation, DOC, Codec.Brotli, 100, Buffer.from('not brotli at all')))
    await expect(store.load(DOC)).rejects.toThrow(/does not decompress/)
    await store.close()
  })
})

describe('FileDocStore: file descriptors', () => {
  it('keeps at most maxOpenLogs logs open and reopens closed ones at their end', async () => {
    const dir = path.join(await tmpDir(), 'docs')
    const store = new FileDocStore({ dir, maxOpenLogs: 2 })
    const docs = [0, 1, 2, 3, 4].map((i) => asDocName(`p${i}/.rhema/todos.yaml`))
    const written = new Map(docs.map((d) => [d, [] as Uint8Array[]]))
    for (let round = 0; round < 4; round++) {
      await Promise.all(docs.map(async (d, i) => {
        const u = new Uint8Array([round, i, 7])
        written.get(d)!.push(u)
        await store.append(d, u)
      }))
      expect((store as unknown as { logs: Map<string, unknown> }).logs.size).toBeLessThanOrEqual(docs.length)
    }
    for (const d of docs) await store.append(d, new Uint8Array([9])).then(() => written.get(d)!.push(new Uint8Array([9])))
    expect((store as unknown as { logs: Map<string, unknown> }).logs.size).toBeLessThanOrEqual(2)
    for (const d of docs) expect(hex((await store.load(d))!.updates)).toEqual(hex(written.get(d)!))
    await store.close()
  })
})

describe('FileDocStore: interrupted compaction', () => {
  it('ignores temp files of a compaction that never renamed, and sweeps them on the next write', async () => {
    const { dir, updates } = await storeWith(4)
    const key = fileKey(DOC)
    await fs.writeFile(path.join(dir, `${key}.snap.tmp-999-dead`), 'half a snapshot')
    await fs.writeFile(path.join(dir, `${key}.log.tmp-999-beef`), '')
    const store = new FileDocStore({ dir })
    expect(await store.list()).toEqual([DOC])
    expect(hex((await store.load(DOC))!.updates)).toEqual(hex(updates))
    await store.append(DOC, updates[0]!)
    expect((await fs.readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([])
    await store.close()
  })

  it('loads everything when the crash fell between the snapshot rename and the log reset', async () => {
    const { dir, updates, logFile } = await storeWith(10, { meta: true })
    const oldLog = await fs.readFile(logFile)
    const store = new FileDocStore({ dir })
    const d = new Y.Doc()
    for (const u of updates.slice(0, 7)) Y.applyUpdate(d, u) // a snapshot that misses some updates is still saved by the replay
    await store.compact(DOC, Y.encodeStateAsUpdate(d), { baseHash: 'snap' })
    await store.close()
    await fs.writeFile(logFile, oldLog) // as if the new empty log had never been renamed in
    const reader = new FileDocStore({ dir })
    const loaded = await reader.load(DOC)
    expect(loaded!.meta).toEqual({ baseHash: 'snap' })
    expect(loaded!.warnings.join()).toMatch(/interrupted compaction/)
    const all = new Y.Doc()
    for (const u of updates) Y.applyUpdate(all, u)
    const got = new Y.Doc()
    for (const u of loaded!.updates) Y.applyUpdate(got, u)
    expect(got.getArray('a').toJSON()).toEqual(all.getArray('a').toJSON())
    // The writer starts a fresh log of the snapshot's generation before appending.
    await reader.append(DOC, updates[0]!)
    const after = await reader.load(DOC)
    expect(after!.updates).toHaveLength(2)
    expect(after!.warnings).toEqual([])
    await reader.close()
  })

  it('ignores, with a warning, a log file that a kill left empty right after creating it', async () => {
    const { dir, updates, logFile } = await storeWith(4)
    const store = new FileDocStore({ dir })
    const d = new Y.Doc()
    for (const u of updates) Y.applyUpdate(d, u)
    await store.compact(DOC, Y.encodeStateAsUpdate(d), {})
    await store.close()
    await fs.writeFile(logFile, '') // created, then killed before its header was written
    const reader = new FileDocStore({ dir })
    const loaded = await reader.load(DOC)
    expect(loaded!.warnings.join()).toMatch(/empty log file: its creation was interrupted/)
    const got = new Y.Doc()
    for (const u of loaded!.updates) Y.applyUpdate(got, u)
    expect(got.getArray('a').toJSON()).toEqual(d.getArray('a').toJSON())
    await reader.close()
  })

  it('reports a log whose snapshot is missing as corrupt', async () => {
    const { dir, updates, snapFile } = await storeWith(3)
    const store = new FileDocStore({ dir })
    await store.compact(DOC, updates[0]!, {})
    await store.append(DOC, updates[1]!)
    await fs.unlink(snapFile)
    await expect(store.load(DOC)).rejects.toThrow(/snapshot that is missing/)
    await store.close()
  })
})

describe('FileDocStore: kill -9 while appending and compacting', () => {
  it('always loads, holding every acknowledged append, while readers load concurrently', async () => {
    const seed = testSeed()
    console.log(`sidecar kill test seed: ${seed} (rerun with CTXSYNC_SEED=${seed})`)
    const rand = prng(seed)
    const dir = path.join(await tmpDir(), 'docs')
    const reader = new FileDocStore({ dir })
    let maxAcked = -1
    let compactions = 0
    let readerLoads = 0
    const warned = { torn: 0, leftover: 0 }
    const countWarnings = (ws: string[]): void => {
      for (const w of ws) w.includes('torn') ? warned.torn++ : w.includes('interrupted') ? warned.leftover++ : 0
    }
    for (let round = 0; round < 10; round++) {
      const compactEvery = rand() < 0.4 ? 1 + Math.floor(rand() * 3) : 10 + Math.floor(rand() * 30)
      const batch = 1 + Math.floor(rand() * 3)
      const child = await startChild('appender', [dir, DOC, String(compactEvery), String(batch)])
      const start = Number((await child.waitFor(/^start /)).split(' ')[1])
      expect(start, `round ${round} (seed ${seed})`).toBeGreaterThan(maxAcked)
      await child.waitFor(/^acked /)
      const until = Date.now() + 20 + rand() * 200
      while (Date.now() < until) {
        const loaded = await reader.load(DOC) // a reader in another process must never see corruption
        countWarnings(loaded!.warnings)
        const vs = values(loaded!.updates)
        expect(vs, `seed ${seed}`).toEqual(vs.map((_, i) => i))
        readerLoads++
        await sleep(rand() * 10)
      }
      child.proc.kill('SIGKILL')
      await child.exited
      for (const l of child.lines) {
        if (l.startsWith('acked ')) maxAcked = Math.max(maxAcked, Number(l.slice(6)))
        if (l.startsWith('compacted ')) compactions++
      }
      const loaded = await reader.load(DOC)
      countWarnings(loaded!.warnings)
      const vs = values(loaded!.updates)
      expect(vs, `round ${round}, seed ${seed}: no holes`).toEqual(vs.map((_, i) => i))
      expect(vs.length - 1, `round ${round}, seed ${seed}: every acked value`).toBeGreaterThanOrEqual(maxAcked)
    }
    console.log(`sidecar kill test: 10 kills, ${maxAcked + 1} acked appends, ${compactions} compactions, ${readerLoads} concurrent reader loads; warnings seen: ${warned.torn} torn tails, ${warned.leftover} leftover logs`)
  }, 30_000)
})

import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sha256hex } from '../../src/ids.js'
import { SymlinkRefusedError, decodeText, readTextFile, removeFile, sweepStaleTemps, writeFileAtomic } from '../../src/fs/atomic.js'
import { removeTmpDirs, tmpDir } from './helpers.js'

afterAll(removeTmpDirs)

describe('atomic file writes and classified reads', () => {
  it('sweeps the temp files a killed write left (older than a minute), and nothing else', async () => {
    const root = await tmpDir()
    const dir = path.join(root, '.rhema')
    const state = path.join(root, '.ctxsync')
    await fs.mkdir(dir, { recursive: true })
    await fs.mkdir(state, { recursive: true })
    const old = new Date(Date.now() - 5 * 60_000)
    const put = async (f: string, stale: boolean) => {
      await fs.writeFile(f, 'x')
      if (stale) await fs.utimes(f, old, old)
    }
    await put(path.join(dir, 'todos.yaml'), false)
    await put(path.join(dir, 'todos.yaml.3f2a9c01bd'), true) // ours: pid + random, abandoned
    await put(path.join(dir, 'todos.yaml.7e3d0a1b'), false) // a write under way right now
    await put(path.join(dir, 'notes.yaml.abcdef12'), true) // beside a file that is not ours
    await put(path.join(dir, 'todos.yaml.bak'), true) // not a temp name
    await put(path.join(state, 'summary.json'), false)
    await put(path.join(state, 'summary.json.91ac33'), true) // write-file-atomic's, abandoned
    expect(await sweepStaleTemps([path.join(dir, 'todos.yaml')], [state])).toBe(2)
    expect((await fs.readdir(dir)).sort()).toEqual(['notes.yaml.abcdef12', 'todos.yaml', 'todos.yaml.7e3d0a1b', 'todos.yaml.bak'])
    expect(await fs.readdir(state)).toEqual(['summary.json'])
  })

  it('writes content, creating parent directories, and returns its hash', async () => {
    const root = await tmpDir()
    const file = path.join(root, 'sub', '.rhema', 'todos.yaml')
    const text = 'todos:\n  - id: a\n    title: "Ünïcödé ✓"\n'
    const res = await writeFileAtomic(file, text)
    expect(await fs.readFile(file, 'utf8')).toBe(text)
    expect(res).toEqual({ hash: sha256hex(text), size: Buffer.byteLength(text) })
    const read = await readTextFile(file)
    expect(read).toMatchObject({ kind: 'text', text, hash: res.hash, size: res.size })
    expect(await fs.readdir(path.dirname(file))).toEqual(['todos.yaml']) // no temp file left behind
  })

  it('keeps the mode of the file it replaces', async () => {
    const file = path.join(await tmpDir(), 'rhema.yaml')
    await fs.writeFile(file, 'a: 1\n')
    await fs.chmod(file, 0o640)
    await writeFileAtomic(file, 'a: 2\n')
    expect((await fs.stat(file)).mode & 0o777).toBe(0o640)
    await fs.chmod(file, 0o755)
    await writeFileAtomic(file, 'a: 3\n')
    expect((await fs.stat(file)).mode & 0o777).toBe(0o755)
    expect(await fs.readFile(file, 'utf8')).toBe('a: 3\n')
  })

  it('refuses symlinks for reading and writing, leaving the target alone', async () => {
    const root = await tmpDir()
    const target = path.join(root, 'outside.yaml')
    const link = path.join(root, 'todos.yaml')
    await fs.writeFile(target, 'secret: 1\n')
    await fs.symlink(target, link)
    expect(await readTextFile(link)).toEqual({ kind: 'unreadable', reason: 'symlink' })
    await expect(writeFileAtomic(link, 'x: 1\n')).rejects.toBeInstanceOf(SymlinkRefusedError)
    expect(await fs.readFile(target, 'utf8')).toBe('secret: 1\n')
  })

  it('within a root, refuses paths through a linked directory both ways (the target stays untouched)', async () => {
    const root = await tmpDir()
    const away = await tmpDir()
    await fs.writeFile(path.join(away, 'notes.yaml'), 'private: true\n')
    await fs.mkdir(path.join(root, '.rhema'))
    await fs.symlink(away, path.join(root, '.rhema', 'sub'))
    const file = path.join(root, '.rhema', 'sub', 'notes.yaml')
    expect(await readTextFile(file, { within: root })).toEqual({ kind: 'unreadable', reason: 'symlink' })
    await expect(writeFileAtomic(file, 'x: 1\n', { within: root })).rejects.toBeInstanceOf(SymlinkRefusedError)
    await expect(writeFileAtomic(path.join(root, '.rhema', 'sub', 'new', 'n.yaml'), 'x: 1\n', { within: root })).rejects.toBeInstanceOf(SymlinkRefusedError)
    await expect(removeFile(file, { within: root })).rejects.toBeInstanceOf(SymlinkRefusedError)
    expect(await fs.readdir(away)).toEqual(['notes.yaml'])
    expect(await fs.readFile(path.join(away, 'notes.yaml'), 'utf8')).toBe('private: true\n')
    // Outside the root altogether is refused too; real directories below it are fine and get created.
    await expect(writeFileAtomic(path.join(away, 'n.yaml'), 'x: 1\n', { within: root })).rejects.toBeInstanceOf(SymlinkRefusedError)
    await writeFileAtomic(path.join(root, '.rhema', 'real', 'ok.yaml'), 'x: 1\n', { within: root })
    expect(await readTextFile(path.join(root, '.rhema', 'real', 'ok.yaml'), { within: root })).toMatchObject({ kind: 'text', text: 'x: 1\n' })
  })

  it('takes its size limit from CTXSYNC_MAX_FILE_BYTES (8 MiB otherwise, and when the value is not sane)', async () => {
    const file = path.join(await tmpDir(), 'big.yaml')
    await fs.writeFile(file, `a: "${'x'.repeat(4000)}"\n`)
    try {
      process.env.CTXSYNC_MAX_FILE_BYTES = '2048'
      expect(await readTextFile(file)).toEqual({ kind: 'unreadable', reason: 'too-large' })
      process.env.CTXSYNC_MAX_FILE_BYTES = 'lots'
      expect(await readTextFile(file)).toMatchObject({ kind: 'text' })
    } finally {
      delete process.env.CTXSYNC_MAX_FILE_BYTES
    }
  })

  it('classifies binary, non-UTF-8, missing, directories and oversized files', async () => {
    const root = await tmpDir()
    const f = (n: string): string => path.join(root, n)
    await fs.writeFile(f('bin.yaml'), Buffer.from([0x61, 0x00, 0x62]))
    await fs.writeFile(f('latin1.yaml'), Buffer.from('caf\xe9: 1\n', 'latin1'))
    await fs.writeFile(f('big.yaml'), Buffer.alloc(2048, 0x61))
    await fs.mkdir(f('dir.yaml'))
    expect(await readTextFile(f('bin.yaml'))).toEqual({ kind: 'unreadable', reason: 'binary' })
    expect(await readTextFile(f('latin1.yaml'))).toEqual({ kind: 'unreadable', reason: 'not-utf8' })
    expect(await readTextFile(f('none.yaml'))).toEqual({ kind: 'missing' })
    expect(await readTextFile(f('none/deeper.yaml'))).toEqual({ kind: 'missing' })
    expect(await readTextFile(f('dir.yaml'))).toEqual({ kind: 'unreadable', reason: 'not-a-file' })
    expect(await readTextFile(f('big.yaml'), { maxBytes: 1024 })).toEqual({ kind: 'unreadable', reason: 'too-large' })
  })

  it('keeps a UTF-8 byte-order mark so text and hash describe the same bytes', async () => {
    const file = path.join(await tmpDir(), 'scope.yaml')
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a: 1\n')])
    await fs.writeFile(file, bytes)
    const r = await readTextFile(file)
    expect(r.kind === 'text' && Buffer.from(r.text, 'utf8').equals(bytes)).toBe(true)
    expect(r.kind === 'text' && r.hash).toBe(sha256hex(bytes))
    expect(decodeText(Buffer.from([0xc3, 0x28]))).toEqual({ ok: false, reason: 'not-utf8' })
  })

  it('removes files, reporting whether there was one', async () => {
    const file = path.join(await tmpDir(), 'x.yaml')
    await writeFileAtomic(file, 'x\n')
    expect(await removeFile(file)).toBe(true)
    expect(await removeFile(file)).toBe(false)
  })
})

/**
 * The contract of a `FileWatcher` (`src/fs/watcher.ts`), run on every implementation: the chokidar
 * `Watcher` (the OS tells it) and `ScanWatcher` (told to look). `look` is what makes a change visible: a
 * no-op for the OS watcher, `scan()` for the scanning one; every wait is on the event itself.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { FileWatcher, WatcherEvents } from '../../src/fs/watcher.js'

export interface WatcherUnderTest {
  w: FileWatcher
  look: () => Promise<void>
}

const sha = (t: string) => createHash('sha256').update(t).digest('hex')

/** The next event of `kind` for `rel`, making changes visible until it comes (bounded). */
async function next<K extends 'file' | 'deleted'>(t: WatcherUnderTest, kind: K, rel: string): Promise<WatcherEvents[K][0]> {
  let got: WatcherEvents[K][0] | undefined
  t.w.on(kind, ((ev: WatcherEvents[K][0]) => {
    if (ev.path === rel) got ??= ev
  }) as never)
  const deadline = Date.now() + 10_000
  while (!got) {
    if (Date.now() > deadline) throw new Error(`no ${kind} event for ${rel}`)
    await t.look()
    await new Promise((r) => setTimeout(r, 10))
  }
  return got
}

export function watcherContract(name: string, make: (root: string) => WatcherUnderTest): void {
  describe(`FileWatcher contract: ${name}`, () => {
    const open: WatcherUnderTest[] = []
    afterEach(async () => {
      for (const t of open.splice(0)) await t.w.close()
    })

    async function start(files: Record<string, string> = {}): Promise<{ root: string; t: WatcherUnderTest }> {
      const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-watch-contract-'))
      await fs.mkdir(path.join(root, '.rhema'))
      for (const [f, text] of Object.entries(files)) await fs.writeFile(path.join(root, f), text)
      const t = make(root)
      open.push(t)
      await t.w.ready()
      return { root, t }
    }

    it('a saved file is reported with its text and the sha256 of its bytes', async () => {
      const { root, t } = await start({ '.rhema/a.yaml': 'a: 1\n' })
      const ev = next(t, 'file', '.rhema/a.yaml')
      await fs.writeFile(path.join(root, '.rhema/a.yaml'), 'a: 2 # café\n')
      expect(await ev).toMatchObject({ path: '.rhema/a.yaml', text: 'a: 2 # café\n', hash: sha('a: 2 # café\n') })
    })

    it('a new file is reported; an untracked one is not', async () => {
      const { root, t } = await start()
      const untracked: string[] = []
      t.w.on('file', (ev) => void (ev.path.endsWith('.md') && untracked.push(ev.path)))
      await fs.writeFile(path.join(root, 'README.md'), 'x')
      const ev = next(t, 'file', '.rhema/new.yaml')
      await fs.writeFile(path.join(root, '.rhema/new.yaml'), 'n: 1\n')
      expect((await ev).text).toBe('n: 1\n')
      expect(untracked).toEqual([])
    })

    it('a deleted file is reported deleted', async () => {
      const { root, t } = await start({ '.rhema/a.yaml': 'a: 1\n' })
      const ev = next(t, 'deleted', '.rhema/a.yaml')
      await fs.rm(path.join(root, '.rhema/a.yaml'))
      expect(await ev).toEqual({ path: '.rhema/a.yaml' })
    })

    it('what changed while paused is reported after resume', async () => {
      const { root, t } = await start({ '.rhema/a.yaml': 'a: 1\n' })
      t.w.pause()
      await fs.writeFile(path.join(root, '.rhema/a.yaml'), 'a: paused\n')
      const ev = next(t, 'file', '.rhema/a.yaml')
      await t.w.resume()
      expect((await ev).text).toBe('a: paused\n')
    })
  })
}

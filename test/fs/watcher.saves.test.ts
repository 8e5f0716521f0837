import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { writeFileAtomic } from '../../src/fs/atomic.js'
import type { FileEvent } from '../../src/fs/watcher.js'
import { removeTmpDirs, sleep } from './helpers.js'
import { rig, summary } from './watchRig.js'

afterAll(removeTmpDirs)

describe('Watcher: saves, partial writes, our own writes, pause/resume', () => {
  it('treats editor-style saves (swap file, temp + rename, backup + rewrite) as one change, never a delete', async () => {
    const r = await rig({ '.rhema/todos.yaml': 'v: 0\n' })
    const dir = r.abs('.rhema')
    // vim: swap file, then write a temp file and rename it over the original
    await fs.writeFile(path.join(dir, '.todos.yaml.swp'), 'swap')
    await fs.writeFile(path.join(dir, 'todos.yaml.tmp'), 'v: 1\n')
    await fs.rename(path.join(dir, 'todos.yaml.tmp'), path.join(dir, 'todos.yaml'))
    await fs.unlink(path.join(dir, '.todos.yaml.swp'))
    expect(summary(await r.settle(0))).toEqual(['file .rhema/todos.yaml "v: 1\\n"'])
    // backupcopy=no: move the original aside, write a new file, drop the backup
    const from = r.events.length
    await fs.rename(path.join(dir, 'todos.yaml'), path.join(dir, 'todos.yaml~'))
    await fs.writeFile(path.join(dir, 'todos.yaml'), 'v: 2\n')
    await fs.unlink(path.join(dir, 'todos.yaml~'))
    expect(summary(await r.settle(from))).toEqual(['file .rhema/todos.yaml "v: 2\\n"'])
    // delete, then create again a little later (still inside the grace period)
    const from2 = r.events.length
    await fs.unlink(path.join(dir, 'todos.yaml'))
    await sleep(40)
    await fs.writeFile(path.join(dir, 'todos.yaml'), 'v: 3\n')
    expect(summary(await r.settle(from2))).toEqual(['file .rhema/todos.yaml "v: 3\\n"'])
  })

  it('delivers the full content of a file written in two parts', async () => {
    const r = await rig({ '.rhema/todos.yaml': 'old: 1\n' })
    const full = 'todos:\n' + Array.from({ length: 200 }, (_, i) => `  - id: t${i}\n    title: item ${i}\n`).join('')
    const fh = await fs.open(r.abs('.rhema/todos.yaml'), 'w')
    await fh.write(full.slice(0, full.length / 2))
    await sleep(30)
    await fh.write(full.slice(full.length / 2))
    await fh.close()
    const evs = await r.settle(0)
    expect(evs.at(-1)).toMatchObject({ type: 'file', text: full })
  })

  it('reports a user edit that lands right after our own write (content hash, not timers)', async () => {
    const r = await rig({ '.rhema/todos.yaml': 'who: start\n' })
    for (const gap of [0, 5, 20, 45]) {
      const from = r.events.length
      const ours = await writeFileAtomic(r.abs('.rhema/todos.yaml'), `who: ours-${gap}\n`)
      await sleep(gap)
      await fs.writeFile(r.abs('.rhema/todos.yaml'), `who: user-${gap}\n`)
      const evs = (await r.settle(from, 150)).filter((e) => e.type === 'file') as FileEvent[]
      expect(evs.at(-1)?.text, `gap ${gap} ms`).toBe(`who: user-${gap}\n`)
      expect(evs.every((e) => e.hash !== ours.hash || e.text === `who: ours-${gap}\n`)).toBe(true)
    }
    // Same size, same content as an earlier state: still reported, since our write came in between.
    const from = r.events.length
    await writeFileAtomic(r.abs('.rhema/todos.yaml'), 'who: AAAA\n')
    await fs.writeFile(r.abs('.rhema/todos.yaml'), 'who: BBBB\n')
    await fs.writeFile(r.abs('.rhema/todos.yaml'), 'who: user-45\n')
    const evs = await r.settle(from, 150)
    expect((evs.at(-1) as FileEvent).text).toBe('who: user-45\n')
  })

  it('is silent while paused and re-checks every tracked file on resume', async () => {
    const r = await rig({ '.rhema/todos.yaml': 'a: 1\n', '.rhema/gone.yaml': 'g: 1\n', 'rhema.yaml': 'same: 1\n' })
    r.w.pause()
    await fs.writeFile(r.abs('.rhema/todos.yaml'), 'a: 2\n')
    await fs.unlink(r.abs('.rhema/gone.yaml'))
    await fs.writeFile(r.abs('.rhema/new.yaml'), 'n: 1\n')
    expect(await r.settle(0)).toEqual([])
    await r.w.resume()
    expect(new Set(summary(await r.settle(0)))).toEqual(new Set([
      'file .rhema/todos.yaml "a: 2\\n"', 'file .rhema/new.yaml "n: 1\\n"', 'file rhema.yaml "same: 1\\n"', 'deleted .rhema/gone.yaml',
    ]))
    const from = r.events.length
    await fs.writeFile(r.abs('.rhema/todos.yaml'), 'a: 3\n')
    expect(summary(await r.settle(from))).toEqual(['file .rhema/todos.yaml "a: 3\\n"'])
  })
})

/**
 * Git starting again while the git watch classifies what the last command did: the space stays paused
 * until that command is done too (gitwatch.ts `afterGit`). The check came only before the quiet-period
 * snapshots, so a command started during the classification found the space resumed — files written and
 * taken in under its feet (stop 26's staging flakes came through that window, under load).
 * The classification is held open by a gate (gitintent.ts `classify` wrapped) to make the window wide.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { FileWatcher } from '../../src/fs/watcher.js'
import { GitWatch } from '../../src/space/gitwatch.js'
import { Node, removeSpaceDirs, SEED, TODOS } from './harness.js'

const gate = vi.hoisted(() => ({ open: null as null | Promise<void>, entered: 0 }))
vi.mock('../../src/space/gitintent.js', async (orig) => {
  const m = await orig<typeof import('../../src/space/gitintent.js')>()
  return {
    ...m,
    classify: async (...a: Parameters<typeof m.classify>) => {
      gate.entered++
      if (gate.open) await gate.open
      return m.classify(...a)
    },
  }
})

afterAll(removeSpaceDirs)

async function until(ok: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('git starting again while the watch classifies the last command', () => {
  it('keeps the space paused until that command is done as well', async () => {
    const b = await Node.make({ name: 'bob', files: { [TODOS]: SEED } })
    await b.start()
    const watcher = { pause: () => undefined, resume: async () => undefined } as unknown as FileWatcher
    const w = (await GitWatch.attach(b.s, watcher, () => undefined, () => undefined))!
    const activity = (w as unknown as { activity: { busy: boolean } }).activity
    const resumed: boolean[] = [] // git's lock present at each resume
    const lock = path.join(b.root, '.git', 'index.lock')
    const orig = b.s.resumeAfterGit.bind(b.s)
    vi.spyOn(b.s, 'resumeAfterGit').mockImplementation(async (...a) => {
      resumed.push(await fsp.access(lock).then(() => true, () => false))
      return orig(...a)
    })
    let release = () => undefined as void
    try {
      gate.open = new Promise<void>((r) => (release = r))
      // A first command (its lock, then gone): the watch goes idle and classifies, held at the gate.
      await fsp.writeFile(lock, '')
      await until(() => activity.busy, 'the watch to see git at work')
      await fsp.rm(lock)
      await until(() => gate.entered === 1, 'the classification of the first command')
      // A second command starts meanwhile.
      await fsp.writeFile(lock, '')
      await until(() => activity.busy, 'the watch to see git at work again')
      release()
      gate.open = null
      await w.untilGitIdle(300)
      expect(resumed).toEqual([]) // not resumed under the second command
      await fsp.rm(lock)
      await until(() => resumed.length === 1, 'the space to resume once git is done')
      await w.untilGitIdle(5000)
      expect(resumed).toEqual([false])
    } finally {
      release()
      w.close()
      await b.close()
    }
  })
})

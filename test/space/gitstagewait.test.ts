/**
 * A peer's new file written while git was at work (the quiet period after a `git status`, which refreshes
 * the index under `index.lock`) is staged once git is done (gitwatch.ts `toStage`). It was dropped: the file
 * stayed untracked, and the `git pull` bringing the peer's commit of it refused ("untracked working tree
 * files would be overwritten by merge"; e2e plain-git 'a context file a peer added and pushed', under load).
 */
import { execFileSync } from 'node:child_process'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { FileWatcher } from '../../src/fs/watcher.js'
import { GitWatch } from '../../src/space/gitwatch.js'
import { Node, removeSpaceDirs, SEED, TODOS } from './harness.js'

afterAll(removeSpaceDirs)

const F = '.rhema/peer-new.yaml'

async function until(ok: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** bob, live, with the real git watch over a file watcher that does nothing (the events are emitted by hand). */
async function rig() {
  const b = await Node.make({ name: 'bob', files: { [TODOS]: SEED } })
  await b.start()
  const said: string[] = []
  const watcher = { pause: () => undefined, resume: async () => undefined } as unknown as FileWatcher
  const w = (await GitWatch.attach(b.s, watcher, (l) => said.push(l), () => undefined))!
  const activity = (w as unknown as { activity: { busy: boolean } }).activity
  return { b, said, w, activity }
}

describe('a peer\'s new file written while git is at work', () => {
  it('is staged once git is done', async () => {
    const { b, said, w, activity } = await rig()
    const lock = path.join(b.root, '.git', 'index.lock')
    try {
      await fsp.writeFile(lock, '')
      await until(() => activity.busy, 'the git watch to see git at work')
      // What reconcile.ts says after writing a peer's file (the write itself is not what is tested here).
      await fsp.writeFile(path.join(b.root, F), 'patterns: []\n')
      ;(b.s as unknown as { emit(e: 'file-written', n: string): void }).emit('file-written', F)
      await fsp.rm(lock)
      await w.untilGitIdle(5000)
      const status = execFileSync('git', ['status', '--porcelain', '--', F], { cwd: b.root, encoding: 'utf8' })
      expect(status, said.join('\n')).toBe(`A  ${F}\n`)
      expect(said).toContain(`staged ${F}, new to git here, so that a pull bringing it works`)
    } finally {
      w.close()
      await b.close()
    }
  })

  // CI (git-hygiene, under load): the deletion came while a `git status` held index.lock; `git rm --cached`
  // failed and what the daemon had staged was forgotten, so the index kept it ('AD').
  it('what it staged is unstaged once git is done, when the file is deleted while git holds the index', async () => {
    const { b, said, w, activity } = await rig()
    const emit = (e: 'file-written' | 'file-deleted', n: string) => (b.s as unknown as { emit(e: string, n: string): void }).emit(e, n)
    const lock = path.join(b.root, '.git', 'index.lock')
    const status = () => execFileSync('git', ['status', '--porcelain', '--', F], { cwd: b.root, encoding: 'utf8' })
    try {
      await fsp.writeFile(path.join(b.root, F), 'patterns: []\n')
      emit('file-written', F)
      await w.untilGitIdle(5000)
      await until(() => status() === `A  ${F}\n`, 'the daemon to stage the new file')
      await until(() => !activity.busy, 'git to be idle')
      await fsp.writeFile(lock, '')
      await until(() => activity.busy, 'the git watch to see git at work')
      await fsp.rm(path.join(b.root, F))
      emit('file-deleted', F)
      await w.untilGitIdle(200)
      await fsp.rm(lock)
      await w.untilGitIdle(5000)
      await until(() => status() === '', `the index to drop ${F} (${status().trim()}; ${said.join(' | ')})`)
      expect(said).toContain(`unstaged ${F}, deleted: it was staged only so that a pull bringing it works`)
    } finally {
      w.close()
      await b.close()
    }
  })

  // CI (git-hygiene, under load, after the test above passed): the test's wait polled `git status`, whose
  // index lock came back within every quiet period, so the watch never went idle and the unstage waiting for
  // that idle never ran.
  it('what it staged is unstaged while a tool keeps running git status (the watch never idles)', async () => {
    const { b, said, w, activity } = await rig()
    const emit = (e: 'file-written' | 'file-deleted', n: string) => (b.s as unknown as { emit(e: string, n: string): void }).emit(e, n)
    const inIndex = () => execFileSync('git', ['ls-files', '--', F], { cwd: b.root, encoding: 'utf8' }) !== ''
    let polling = true
    let poll: Promise<void> = Promise.resolve()
    try {
      await fsp.writeFile(path.join(b.root, F), 'patterns: []\n')
      emit('file-written', F)
      await w.untilGitIdle(5000)
      await until(inIndex, 'the daemon to stage the new file')
      await until(() => !activity.busy, 'git to be idle')
      poll = blinkIndexLock(path.join(b.root, '.git', 'index.lock'), () => polling)
      await until(() => activity.busy, 'the git watch to see git at work')
      await fsp.rm(path.join(b.root, F))
      emit('file-deleted', F)
      const line = `unstaged ${F}, deleted: it was staged only so that a pull bringing it works`
      await until(() => said.includes(line), `the daemon to unstage ${F} (${said.join(' | ')})`)
      expect(inIndex()).toBe(false)
      expect(activity.busy).toBe(true) // the lock never left it the quiet period an idle needs
    } finally {
      polling = false
      await poll
      w.close()
      await b.close()
    }
  })
})

/** What a tool polling `git status` does to git's directory: the index lock, 40 ms in every 120. */
async function blinkIndexLock(lock: string, on: () => boolean): Promise<void> {
  while (on()) {
    await fsp.writeFile(lock, '')
    await new Promise((r) => setTimeout(r, 40))
    await fsp.rm(lock, { force: true })
    await new Promise((r) => setTimeout(r, 80))
  }
}

/**
 * No tracked file is written while git is at work (githold.ts): a peer's change that reaches the space while
 * git's markers are in its directory — before the git watch paused the daemon, or with no git watch at all —
 * waits, and is written once they are gone. Before, such a write landed between `git pull --rebase`'s
 * checkout onto upstream and its pick, and git refused the pick (test/e2e/rebase-race.test.ts).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import os from 'node:os'
import { afterAll, describe, expect, it } from 'vitest'
import type { Repo } from '../../src/git/repo.js'
import { asDocName } from '../../src/ids.js'
import { GitHold, UNHEARD_MS } from '../../src/space/githold.js'
import { idle, removeSpaceDirs, SEED, seededPair, TODOS } from './harness.js'

afterAll(removeSpaceDirs)

const until = async (cond: () => Promise<boolean>, what: string, ms = 5000): Promise<void> => {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('writes held while git is at work', () => {
  for (const marker of ['rebase-merge', 'index.lock', 'MERGE_HEAD'] as const) {
    it(`a peer's change arriving while .git/${marker} exists is written only once it is gone`, async () => {
      const { a, b } = await seededPair()
      try {
        const gitDir = (await b.s.gitRepo())!.gitDir
        const m = path.join(gitDir, marker)
        if (marker === 'rebase-merge') await fs.mkdir(m)
        else await fs.writeFile(m, marker === 'MERGE_HEAD' ? '0'.repeat(40) + '\n' : '')
        const next = SEED.replace('title: second', 'title: second, from a')
        await a.edit(next)
        await b.s.applyRemote(TODOS, a.host().encodeDiff(TODOS, b.host().stateVector(TODOS))!, a.id)
        await idle(b.s)
        // Git's checkout may have put its own text here: a write now is what made the pick refuse.
        await new Promise((r) => setTimeout(r, 300))
        expect(await b.file()).toBe(SEED)
        await fs.rm(m, { recursive: true })
        await until(async () => (await b.file()) === next, 'the held write after git is done')
      } finally {
        await a.close()
        await b.close()
      }
    })
  }

  it("a change in git's directory the git watch has not heard of yet holds writes (bounded), then they are written", async () => {
    // A rebase's autostash check takes and drops index.lock, then makes rebase-merge/: a write landing in
    // between, before the watch's event paused the daemon, made the checkout onto upstream refuse.
    const gitDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-githold-'))
    try {
      const again: string[] = []
      let heard = Date.now()
      const hold = new GitHold(async () => ({ gitDir }) as Repo, { paused: () => false, closed: () => false, writeAgain: (n) => void again.push(n), retryMs: 20 })
      await hold.repo()
      hold.heardBy(() => heard)
      await new Promise((r) => setTimeout(r, 20))
      expect(hold.hold(asDocName('a.yaml'))).toBe(false)
      await fs.writeFile(path.join(gitDir, 'index.lock'), '')
      await fs.rm(path.join(gitDir, 'index.lock'))
      expect(hold.hold(asDocName('a.yaml'))).toBe(true)
      heard = Date.now() + 1 // the watch looked: what it saw was no operation under way
      expect(hold.hold(asDocName('b.yaml'))).toBe(false)
      await until(async () => again.includes('a.yaml'), 'the held write tried again')
      // Never heard (an event the platform dropped): writes go on once the change is old.
      heard = 0
      const old = (Date.now() - UNHEARD_MS - 100) / 1000
      await fs.utimes(gitDir, old, old)
      expect(hold.hold(asDocName('c.yaml'))).toBe(false)
    } finally {
      await fs.rm(gitDir, { recursive: true, force: true })
    }
  })
})

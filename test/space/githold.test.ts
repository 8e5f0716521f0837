/**
 * No tracked file is written while git is at work (githold.ts): a peer's change that reaches the space while
 * git's markers are in its directory — before the git watch paused the daemon, or with no git watch at all —
 * waits, and is written once they are gone. Before, such a write landed between `git pull --rebase`'s
 * checkout onto upstream and its pick, and git refused the pick (test/e2e/rebase-race.test.ts).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
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
})

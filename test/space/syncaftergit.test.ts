/**
 * `ctxsync sync` asked of a daemon right after a git command (a test's or a person's `git pull; ctxsync
 * sync; ctxsync resolve --list`) ran while the git watch still waited out git's quiet period: the files were
 * not taken in (the daemon is paused for git), and `resolve --list` listed a merge record the daemon dropped
 * a moment later (merge-seen.test.ts, under load). The daemon's sync now first waits for the git watch to
 * be idle and its reconcile done, as a hook's sync point does.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { GitWatch } from '../../src/space/gitwatch.js'
import { LocalSpace, type LiveParts } from '../../src/space/local.js'
import { PeerBook } from '../../src/space/summary.js'
import type { PeerManager } from '../../src/net/peer-manager.js'
import { Node, removeSpaceDirs, SEED, TODOS } from './harness.js'

afterAll(removeSpaceDirs)

describe('a sync through the daemon after git', () => {
  it('waits until the git watch has taken in what git did', async () => {
    const a = await Node.make({ name: 'ann', files: { [TODOS]: SEED } })
    await a.start()
    try {
      let gitDone!: () => void
      let ask!: () => void
      const idle = new Promise<void>((r) => (gitDone = r))
      const asked = new Promise<void>((r) => (ask = r))
      const git = { untilGitIdle: () => (ask(), idle) } as unknown as GitWatch
      const live: LiveParts = {
        peers: { peers: () => [] } as unknown as PeerManager, remotes: { peers: [], registry: null } as unknown as LiveParts['remotes'],
        url: 'ws://127.0.0.1:1', finder: () => null, git: () => git, stop: () => undefined,
      }
      const api = new LocalSpace(a.s, { book: new PeerBook(a.s.paths.peers), live })
      let synced = false
      const sync = api.sync({ peers: null, registry: null, timeoutMs: 1000 }).then(() => (synced = true))
      expect(await Promise.race([asked.then(() => 'waited for git'), sync.then(() => 'synced')])).toBe('waited for git')
      expect(synced, 'the sync ran while git was still being taken in').toBe(false)
      gitDone()
      await sync
      expect(synced).toBe(true)
    } finally {
      await a.close()
    }
  })
})

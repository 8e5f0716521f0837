/**
 * Agents rewriting a file in place (open with truncation, then write), through the built CLI with two
 * daemons: the watcher sees the empty moment between truncation and write. Taken in, that moment deleted
 * every entry on every peer, and a second writer then wiped the file (found by a black-box tester). Now an
 * empty file where there was content is held a moment and looked at again (src/space/reconcile.ts
 * `CUT_SETTLE_MS`): the peer never loses an entry, and both end with the last rewrite.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { connectedPair, killAll, readFile, removeTmpDirs, SMALL_TODOS, stopWatch, TODOS, waitSame } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** An agent's in-place rewrite: truncate, then write the new text a moment later (its own pace). */
async function rewriteInPlace(file: string, text: string, paceMs: number): Promise<void> {
  const fd = fs.openSync(file, 'w')
  try {
    await sleep(paceMs)
    fs.writeSync(fd, text)
  } finally {
    fs.closeSync(fd)
  }
}

describe('e2e: a save caught between truncation and write', { timeout: 120_000 }, () => {
  it('twenty in-place rewrites on B: A never loses an entry, both end with the last rewrite', async () => {
    const { a, b, da, db } = await connectedPair({ [TODOS]: SMALL_TODOS })
    // Sample A's file all along: a wipe that reached A would show as a file without t3.
    let watching = true
    const seenOnA: string[] = []
    const sampler = (async () => {
      while (watching) {
        const t = readFile(a)
        if (t !== null && !t.includes('id: t3')) seenOnA.push(t)
        await sleep(5)
      }
    })()
    let last = SMALL_TODOS
    for (let i = 0; i < 20; i++) {
      last = SMALL_TODOS.replace('title: "Second task"', `title: "Second task, rewrite ${i}"`)
      // Paces from a few to 200 ms: the watcher sees the empty file, and the write lands before or after
      // the second look.
      await rewriteInPlace(path.join(b.dir, TODOS), last, [5, 40, 120, 200][i % 4]!)
    }
    const text = await waitSame([a, b], TODOS, (t) => t === last, 30_000)
    watching = false
    await sampler
    expect(text).toBe(last)
    expect(seenOnA, 'A held a file without t3').toEqual([])
    await Promise.all([stopWatch(da), stopWatch(db)])
  })
})

/**
 * `branches: separate` while a daemon runs: a new branch forks the context state, each branch keeps its
 * own, switching branches switches state (git's files are the branch's, not the other branch's live
 * context), and merging a branch merges its state — no markers, every change of both sides kept.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { freePort, killAll, readFile, removeTmpDirs, startWatch, stopWatch, TODOS, waitFor, waitLog, type Peer } from './helpers.js'
import { bareRemote, CONTEXT_TODOS, countLine, founder, gitIn, hasMarkers, replaceIn } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

describe('e2e: branches: separate', { timeout: 180_000 }, () => {
  it('forks state per branch, switches it on checkout, and merges it when branches merge', async () => {
    const remote = await bareRemote({ [TODOS]: CONTEXT_TODOS })
    const port = await freePort()
    const { dir } = await founder(remote, 'ann', port)
    const cfg = path.join(dir, 'ctxsync.yaml')
    await fsp.writeFile(cfg, (await fsp.readFile(cfg, 'utf8')).replace(/^branches: shared$/m, 'branches: separate'))
    await gitIn(dir, ['commit', '-qam', 'separate branches'])
    const a: Peer = { name: 'ann', dir, port, url: `ws://127.0.0.1:${port}` }
    const d = await startWatch(a, [], process.env.BRANCH_DEBUG ? { DEBUG: 'ctxsync:*' } : {})
    const explain = (what: string) => (e: Error) => {
      throw new Error(`${what}: ${e.message}\n--- file\n${readFile(a)}\n--- daemon\n${d.log()}`)
    }

    await gitIn(dir, ['checkout', '-q', '-b', 'feature'])
    await waitLog(d, /branch changed: switching/).catch(explain('switch to feature'))
    await waitFor(() => fsp.access(path.join(dir, '.ctxsync', 'branches', 'feature', 'docs')).then(() => true, () => false), 15_000, 'the feature state forked')
    // Edits on the branch: a status, a new todo.
    await replaceIn(dir, TODOS, 'title: "Fix the renderer"\n    status: open', 'title: "Fix the renderer"\n    status: done')
    await replaceIn(dir, TODOS, '  - id: t3\n', '  - id: t8\n    title: "Feature todo"\n    status: open\n  - id: t3\n')
    await waitLog(d, /updated|took in|recorded|ingest/i, 5_000).catch(() => undefined)
    await new Promise((r) => setTimeout(r, 500))
    await gitIn(dir, ['commit', '-qam', 'feature work'])

    await gitIn(dir, ['checkout', '-q', 'main'])
    await waitFor(() => (d.log().match(/branch changed: switching/g) ?? []).length >= 2, 15_000, 'the switch back to main').catch(explain('switch to main'))
    await new Promise((r) => setTimeout(r, 800))
    // Main's state does not hold the feature's work: the file stays main's.
    const onMain = readFile(a)!
    expect(onMain, d.log()).not.toContain('Feature todo')
    expect(onMain).toContain('status: open\n    tags: [render]')
    expect((await gitIn(dir, ['status', '--porcelain'])).stdout.trim()).toBe('')
    // An edit on main meanwhile.
    await replaceIn(dir, TODOS, 'title: "Write the parser"', 'title: "Write the lossless parser"')
    await new Promise((r) => setTimeout(r, 500))
    await gitIn(dir, ['commit', '-qam', 'main work'])

    await gitIn(dir, ['merge', '-q', '--no-edit', 'feature'])
    await waitFor(() => {
      const t = readFile(a) ?? ''
      return t.includes('Feature todo') && t.includes('Write the lossless parser') && t.includes('status: done\n    tags: [render]')
    }, 15_000, 'both branches\' work in the file').catch(explain('merge'))
    const merged = readFile(a)!
    expect(hasMarkers(merged)).toBe(false)
    expect(countLine(merged, '- id: t8')).toBe(1)
    expect(countLine(merged, '- id: t2')).toBe(1)
    expect(merged).toContain('# Team todos')
    expect(await stopWatch(d)).toBe(0)
  })
})

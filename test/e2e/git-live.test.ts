/**
 * Git operations while daemons run: a branch switch must not roll the live context back nor make any
 * operation; a commit made without ctxsync, pulled on two connected peers (at once, one after the other,
 * or while they are apart), must land exactly once.
 */
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { killAll, readFile, removeTmpDirs, startWatch, stopWatch, TODOS, waitFileEquals, waitFor, waitLog, waitSame } from './helpers.js'
import { cloneAs, countLine, gitIn, read, replaceIn, stateVector, twoPeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

/** A commit made where ctxsync does not run: new items with and without identity, lines, a tag. */
async function outsideCommit(remote: string, n: number): Promise<string[]> {
  const c = await cloneAs(remote, `carl${n}`)
  await replaceIn(c, TODOS, '      - second note\n', `      - second note\n      - note ${n} from carl\n`)
  await replaceIn(c, TODOS, '      Report errors with line and column.\n', `      Report errors with line and column.\n      Line ${n} from carl.\n`)
  await replaceIn(c, TODOS, 'title: "Fix the renderer"\n    status: open\n    tags: [', `title: "Fix the renderer"\n    status: open\n    tags: [carl${n}, `)
  const t = await read(c, TODOS)
  await import('node:fs/promises').then((fs) => fs.writeFile(path.join(c, TODOS), `${t}  - id: c${n}\n    title: "From carl ${n}"\n    status: open\n`))
  await gitIn(c, ['commit', '-qam', `carl ${n}`])
  await gitIn(c, ['push', '-q', 'origin', 'main'])
  return [`- note ${n} from carl`, `Line ${n} from carl.`, `- id: c${n}`, `title: "From carl ${n}"`]
}

function expectOnce(text: string, lines: string[]): void {
  for (const l of lines) expect(countLine(text, l), `"${l}" once in:\n${text}`).toBe(1)
  // The tags each commit added to t2 (a set): once each.
  for (const n of [1, 2, 3]) if (lines.some((l) => l.includes(`note ${n} `))) expect(text.split(`carl${n},`).length - 1, text).toBe(1)
}

describe('e2e: git while daemons run', { timeout: 180_000 }, () => {
  it('a branch switch neither rolls back the live context nor makes operations', async () => {
    const { a, b } = await twoPeers()
    const [da, db] = [await startWatch(a), await startWatch(b)]
    await waitLog(db, /connected to ann/)
    await gitIn(a.dir, ['branch', 'old'])
    // A live change, committed on main: `old` is now behind the team's context.
    await replaceIn(a.dir, TODOS, '  - id: t3\n', '  - id: t9\n    title: "Live todo"\n    status: open\n  - id: t3\n')
    const live = readFile(a)!
    await waitFileEquals(b, live)
    await gitIn(a.dir, ['commit', '-qam', 'live todo'])
    await waitFor(async () => (await stateVector(a.dir)) === (await stateVector(b.dir)), 10_000, 'both sidecars to hold the same state')
    const [svA, svB] = [await stateVector(a.dir), await stateVector(b.dir)]
    const logB = db.log().length

    await gitIn(a.dir, ['checkout', '-q', 'old'])
    // git wrote the branch's older file; the daemon puts the live context back.
    await waitFileEquals(a, live).catch((e: Error) => {
      throw new Error(`${e.message}\n--- ann's daemon:\n${da.log()}`)
    })
    await waitLog(da, /kept the live context after git rewrote/)
    expect((await gitIn(a.dir, ['status', '--porcelain'])).stdout).toContain(` M ${TODOS}`)
    expect(readFile(b)).toBe(live)
    // And back (`-m` carries the live file, which is main's version, across).
    await gitIn(a.dir, ['checkout', '-q', '-m', 'main'])
    await new Promise((r) => setTimeout(r, 800))
    expect(readFile(a)).toBe(live)
    expect((await gitIn(a.dir, ['status', '--porcelain'])).stdout).toBe('')
    expect(await stateVector(a.dir)).toBe(svA)
    expect(await stateVector(b.dir)).toBe(svB)
    expect(db.log().slice(logB)).not.toMatch(/updated /)
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
  })

  it('the same commit pulled on two connected peers lands once: at the same time, one after the other, and apart', async () => {
    const { remote, a, b } = await twoPeers()
    let [da, db] = [await startWatch(a), await startWatch(b)]
    await waitLog(db, /connected to ann/)

    // 1. Both pull at the same time: each may take the commit in before the other's operations arrive.
    const one = await outsideCommit(remote, 1)
    await Promise.all([gitIn(a.dir, ['pull', '-q']), gitIn(b.dir, ['pull', '-q'])])
    let text = await waitSame([a, b], TODOS, (t) => t.includes('note 1 from carl'))
    await new Promise((r) => setTimeout(r, 1000))
    text = await waitSame([a, b], TODOS)
    expectOnce(text, one)

    // 2. One after the other: B's daemon has written the commit's content before B pulls it.
    const two = await outsideCommit(remote, 2)
    await gitIn(a.dir, ['pull', '-q'])
    await waitSame([a, b], TODOS, (t) => t.includes('note 2 from carl'))
    await gitIn(b.dir, ['pull', '-q', '--autostash'])
    await new Promise((r) => setTimeout(r, 1000))
    text = await waitSame([a, b], TODOS)
    expectOnce(text, [...one, ...two])

    // 3. Apart: B's daemon is down while both pull; they meet afterwards.
    expect(await stopWatch(db)).toBe(0)
    const three = await outsideCommit(remote, 3)
    await gitIn(a.dir, ['pull', '-q'])
    await waitFor(() => readFile(a)!.includes('note 3 from carl'), 10_000, 'A to take in commit 3')
    await gitIn(b.dir, ['pull', '-q'])
    db = await startWatch(b)
    await waitLog(db, /connected to ann/)
    await new Promise((r) => setTimeout(r, 1000))
    text = await waitSame([a, b], TODOS)
    try {
      expectOnce(text, [...one, ...two, ...three])
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- ann:\n${da.log()}\n--- bob:\n${db.log()}`)
    }
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
  })
})

/**
 * kill -9 at random moments, through the built CLI: the victim peer B's `ctxsync watch` (starting up,
 * reconciling, connecting, receiving, writing) and its `ctxsync sync` (one-shot), while the stable peer A
 * keeps editing (see crashRig.ts for the ticker workload). After every kill, on B's disk:
 *  - the YAML file is whole: it parses, nothing half-written, no id twice, every todo B's user added there;
 *  - the sidecar loads (or recovers with a warning, which is counted) and is not behind the file: whatever
 *    the file showed had been acknowledged durable first;
 *  - for `sync`: a run that exited 0 was acknowledged, so everything B had is on A.
 * Finally B syncs for good: A and B hold identical files with every tick and todo of both, once.
 *
 * Kill counts: CTXSYNC_CRASH_KILLS (default 40 each: CI time is kept under 15 minutes, and each CI run draws a
 * new seed; the bench bench/crash-loop.mjs does thousands). The kill moments are seeded: CTXSYNC_CRASH_SEED replays a run's schedule.
 */
import { execa } from 'execa'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { rng } from '../helpers/faultProxy.js'
import { addOwn, checkAfterKill, expectWholeYaml, idsOf, runTicker, Ticker, TICKER_TODOS, tickOf } from './crashRig.js'
import {
  CLI, countId, ctx, explained, killAll, readFile, removeTmpDirs, setupSpace, startWatch, stopWatch, TODOS, waitFor,
  waitSame, type Peer,
} from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const KILLS = Number(process.env.CTXSYNC_CRASH_KILLS) || 0
const SEED = Number(process.env.CTXSYNC_CRASH_SEED) || Date.now() % 1_000_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const env = { NO_COLOR: '1', CTXSYNC_SECRET: undefined, DEBUG: undefined, CTXSYNC_NO_MDNS: '1' }

async function finalCheck(a: Peer, b: Peer, t: Ticker, own: string[]): Promise<void> {
  const text = await waitSame([a, b], TODOS, (x) => tickOf(x) === t.n && own.every((id) => x.includes(`id: ${id}\n`)), 30_000)
  expectWholeYaml(text, 'final')
  for (const id of [...t.added, ...own]) expect(countId(text, id), id).toBe(1)
}

describe('e2e: kill -9 at random moments', { timeout: 300_000 }, () => {
  it(`watch: killed ${KILLS || 40} times while receiving, writing and starting up`, async () => {
    const kills = KILLS || 40
    const random = rng(SEED)
    console.log(`[crash watch] seed ${SEED}, ${kills} kills`)
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: TICKER_TODOS }, dials: (i) => (i === 1 ? [0] : []) })
    const [a, b] = peers as [Peer, Peer]
    const da = await startWatch(a)
    const t = new Ticker(a, da)
    const stop = runTicker(t, random)
    const own: string[] = []
    const warnings: string[] = []
    let lastLog = ''
    let lockRefusals = 0
    try {
      for (let k = 0; k < kills; k++) {
        const what = `seed ${SEED}, kill ${k + 1}/${kills}`
        if (random() < 0.3) {
          own.push(`b-${k}`)
          addOwn(b, `b-${k}`) // while B is down: its next start takes it in
        }
        const proc = execa('node', [CLI, 'watch', '--port', String(b.port)], { cwd: b.dir, reject: false, env, stdin: 'ignore' })
        // Up to ~1.5 s: kills land in startup, the first sync and steady live sync alike.
        await sleep(Math.floor(random() ** 2 * 1500))
        proc.kill('SIGKILL')
        const r = await proc
        lastLog = String(r.stderr)
        // Killed between taking the lock (a mkdir) and writing its owner file, a daemon leaves a lock nobody
        // can name: a start within the next 3 s is refused (then it is taken over). Counted, not failed.
        if (r.exitCode === 1 && /another ctxsync process holds this space/.test(lastLog)) lockRefusals++
        else if (r.exitCode !== undefined && r.exitCode !== null) throw new Error(`${what}: watch exited by itself (${r.exitCode}):\n${lastLog}`)
        warnings.push(...(await checkAfterKill(b, what)))
        const file = readFile(b)!
        for (const id of own) expect(countId(file, id), `${what}: B's own ${id} left its file`).toBe(1)
      }
    } catch (e) {
      ;(e as Error).message = `[crash watch] seed ${SEED}: ${(e as Error).message}\nlast log of B:\n${lastLog}`
      throw e
    } finally {
      await stop()
    }
    // The last kill may have landed between taking the lock and naming its owner: a start in the next 3 s is
    // refused (counted above, RELIABILITY.md known limits), then the lock is taken over. Start again then.
    const startAgain = async (attempt: number): Promise<Awaited<ReturnType<typeof startWatch>>> =>
      startWatch(b, ['--peer', a.url]).catch(async (e: Error) => {
        if (attempt >= 5 || !/another ctxsync process holds this space/.test(e.message)) throw e
        lockRefusals++
        await sleep(1000)
        return startAgain(attempt + 1)
      })
    const db = await startAgain(0)
    await explained(finalCheck(a, b, t, own).catch((e: Error) => {
      e.message = `[crash watch] seed ${SEED}: ${e.message}`
      throw e
    }), [a, b], [da, db])
    expect(warnings.filter((w) => !/recover|leftover|truncat|torn|interrupted/i.test(w)), 'unexplained sidecar warnings').toEqual([])
    console.log(`[crash watch] ${kills} kills, ${t.n} ticks, ${t.added.length + own.length} todos added; sidecar warnings: ${warnings.length}; starts refused by an ownerless lock: ${lockRefusals}`)
    expect(await stopWatch(db)).toBe(0)
    expect(await stopWatch(da)).toBe(0)
  })

  it(`sync: killed ${KILLS || 40} times mid-exchange; a run that exited 0 lost nothing`, async () => {
    const kills = KILLS || 40
    const random = rng(SEED + 1)
    console.log(`[crash sync] seed ${SEED + 1}, ${kills} kills`)
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: TICKER_TODOS }, dials: () => [] })
    const [a, b] = peers as [Peer, Peer]
    const da = await startWatch(a)
    // B completes its join first (src/space/join.ts): kills in the middle of a clone's first exchange are an
    // open case (RELIABILITY.md, known limits) — here the kills are about a member's syncs.
    const joined = await ctx(b.dir, ['sync', '--peer', a.url])
    expect(joined.exitCode, joined.stderr).toBe(0)
    const t = new Ticker(a, da)
    const stop = runTicker(t, random)
    const own: string[] = []
    const warnings: string[] = []
    let completed = 0
    try {
      for (let k = 0; k < kills; k++) {
        const what = `seed ${SEED + 1}, kill ${k + 1}/${kills}`
        own.push(`b-${k}`)
        addOwn(b, `b-${k}`)
        const proc = execa('node', [CLI, 'sync', '--peer', a.url, '--timeout', '10'], { cwd: b.dir, reject: false, env, stdin: 'ignore' })
        // Most kills land while it runs (it takes ~0.5-1 s here); one in ten is left to finish.
        const finish = random() < 0.1
        const timer = finish ? undefined : setTimeout(() => proc.kill('SIGKILL'), Math.floor(random() * 1200))
        const r = await proc
        clearTimeout(timer)
        if (r.exitCode === 0) {
          completed++
          // Exit 0: A acknowledged everything B had; A writes its file right after (it is never killed).
          const sent = [...own]
          await waitFor(() => sent.every((id) => countId(readFile(a) ?? '', id) === 1), 10_000, `${what}: A to hold what B's finished sync sent`)
        } else if (r.signal !== 'SIGKILL') throw new Error(`${what}: sync failed (${r.exitCode}):\n${r.stderr}`)
        warnings.push(...(await checkAfterKill(b, what)))
        const file = readFile(b)!
        for (const id of own) expect(countId(file, id), `${what}: B's own ${id} left its file`).toBe(1)
      }
    } catch (e) {
      ;(e as Error).message = `[crash sync] seed ${SEED + 1}: ${(e as Error).message}`
      throw e
    } finally {
      await stop()
    }
    const r = await ctx(b.dir, ['sync', '--peer', a.url])
    expect(r.exitCode, r.stderr).toBe(0)
    await explained(finalCheck(a, b, t, own).catch((e: Error) => {
      e.message = `[crash sync] seed ${SEED + 1}: ${e.message}`
      throw e
    }), [a, b], [da])
    expect(warnings.filter((w) => !/recover|leftover|truncat|torn|interrupted/i.test(w)), 'unexplained sidecar warnings').toEqual([])
    console.log(`[crash sync] ${kills} runs (${completed} finished), ${t.n} ticks; sidecar warnings: ${warnings.length}`)
    expect(await stopWatch(da)).toBe(0)
    expect(tickOf(readFile(b))).toBe(t.n)
    expect(idsOf(readFile(b), 'b')).toEqual(own)
  })
})

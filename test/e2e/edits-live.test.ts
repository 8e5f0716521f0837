/**
 * The two-peer property of issue 13 item 2, live: two clones, each with a real `ctxsync watch` of the built
 * CLI, connected on 127.0.0.1; seeded real-world edits (`test/generators/edits.ts`, stacked one to three per
 * save) are saved alternately on either clone, as editors and agents save — in place, to a temp file renamed
 * over the original, in place in two writes, vim's backup-and-rewrite, or (rarely) truncated and written only after a pause
 * longer than the daemon's hold of a cut file — sometimes two saves in a burst, and
 * after each round both files must hold exactly the last saved bytes. The in-process proof
 * (`test/crdt/edit-generator.test.ts`) covers the model; this one adds the watcher, the per-document worker,
 * write-back, echo suppression and the wire.
 *
 * Several files ("slots") are edited at once, one save each per round, and a round waits until every slot
 * holds its bytes on both clones (polling, with a bounded wait): waiting per round rather than per save is
 * what makes 200 saves take seconds. A slot that does not get there within the wait is a failure of every
 * kind its save stacked; its chain (`[writer, saved text]` per step, the `test/crdt/regressions` format) is
 * written under CTXSYNC_EDIT_DUMP when set, and the slot is retired: a new file from a fresh fixture takes its
 * place (its state is off, further saves on it would prove nothing). A chain also restarts after LIVE_CHAIN
 * saves, so long runs see every fixture.
 *
 * CTXSYNC_LIVE_EDITS (default 200: issue 13 asks CI for 200 through two live daemons), CTXSYNC_LIVE_SEED (CI: 1, else the time), CTXSYNC_LIVE_SLOTS (default 8);
 * `bench/edits-live.mjs` runs 5,000 and prints the figures. Edits that leave invalid YAML are not saved
 * (those are held, not taken in: another test's matter).
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, expect, it } from 'vitest'
import { parses } from '../../src/crdt/parse.js'
import { ANCHOR_KINDS, EDIT_KINDS, stacked } from '../generators/edits.js'
import { mulberry32 } from '../helpers/random.js'
import { killAll, readFile, removeTmpDirs, setupSpace, startWatch, stopWatch, textDiff, waitLog, type Peer } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const fixtures = path.resolve(__dirname, '../../fixtures')
const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]))
const FIXTURE_FILES = [...walk(path.join(fixtures, 'rhema')), ...walk(path.join(fixtures, 'styles'))].filter((f) => /\.ya?ml$/.test(f)).sort()

// Every kind, anchors, aliases and merge keys too (black-box tester finding 6).
const KINDS = [...EDIT_KINDS, ...ANCHOR_KINDS]
const SEED = Number(process.env.CTXSYNC_LIVE_SEED) || (process.env.CI ? 1 : Date.now() % 1_000_000)
const EDITS = Number(process.env.CTXSYNC_LIVE_EDITS) || 200
const SLOTS = Number(process.env.CTXSYNC_LIVE_SLOTS) || 8
const LIVE_CHAIN = 25
/** How long a round may take before its unfinished slots count as failed (a loaded CI machine is slow). */
const ROUND_WAIT = Number(process.env.CTXSYNC_LIVE_WAIT_MS) || 20_000
const DUMP = process.env.CTXSYNC_EDIT_DUMP


interface Slot {
  rel: string
  fixture: string
  text: string
  /** [writer, saved text] per step, the first the enrolled text (written by whoever created the file). */
  chain: Array<[number, string]>
  /** How each step was written (`+burst`: saved right after the step before, without waiting). */
  modes: string[]
}

export interface LiveRun {
  tried: Record<string, number>
  failed: Record<string, number>
  failures: string[]
  saves: number
  rounds: number
  /** Saves read as stale once (they undid part of the other side's change) and kept when saved again. */
  resaved: number
  /** Saves per way of writing (`Mode`). */
  modes: Record<string, number>
}

type Mode = 'in-place' | 'rename' | 'chunked' | 'backup' | 'truncate-pause'
const MODES: readonly Mode[] = ['in-place', 'rename', 'chunked', 'backup']
/**
 * A writer that truncates the file and pauses longer than the daemon's hold of a cut file (reconcile.ts
 * CUT_SETTLE_MS, 2 s) before writing its text: the emptying is taken in and reaches the peer, then the whole
 * text lands and must win on both (black-box tester round 2, 4 of 6 at a 3 s pause). Rare, and not awaited
 * by the round's loop (the round waits for it before settling), so it costs a round ~2.5 s, not each slot.
 */
const PAUSE_MS = 2_500
const PAUSE_SHARE = 0.04

/**
 * Saves `text` as editors and agents do: in place (truncate and write), a temp file renamed over the
 * original, in place in two writes a moment apart (a slow or streaming writer: the watcher may see the
 * first part alone, which often parses), or vim's way with `backupcopy=no`: the original renamed to a backup,
 * a new file written, the backup removed (the watcher may see the file gone for a moment).
 */
async function save(peer: Peer, rel: string, text: string, mode: Mode, pending: Array<Promise<void>> = []): Promise<void> {
  const abs = path.join(peer.dir, rel)
  if (mode === 'truncate-pause') {
    fs.writeFileSync(abs, '')
    return void pending.push(new Promise((r) => setTimeout(r, PAUSE_MS)).then(() => fs.writeFileSync(abs, text)))
  }
  if (mode === 'in-place') return fs.writeFileSync(abs, text)
  if (mode === 'rename') {
    const tmp = `${abs}.${process.pid}.swp` // not a tracked name: the watcher must ignore it
    fs.writeFileSync(tmp, text)
    return fs.renameSync(tmp, abs)
  }
  if (mode === 'backup') {
    fs.renameSync(abs, `${abs}~`)
    fs.writeFileSync(abs, text)
    return fs.unlinkSync(`${abs}~`)
  }
  const cut = text.indexOf('\n', Math.floor(text.length / 2)) + 1 || text.length
  const fd = fs.openSync(abs, 'w')
  try {
    fs.writeSync(fd, text.slice(0, cut))
    await new Promise((r) => setTimeout(r, 15))
    fs.writeSync(fd, text.slice(cut))
  } finally {
    fs.closeSync(fd)
  }
}

/** Polls until every wanted file holds its bytes on both peers or the wait is over; returns those that do not. */
async function settle(peers: readonly Peer[], want: Map<string, string | null>, timeout: number): Promise<string[]> {
  const open = new Set(want.keys())
  const deadline = Date.now() + timeout
  for (;;) {
    for (const rel of open) if (peers.every((p) => readFile(p, rel) === want.get(rel))) open.delete(rel)
    if (!open.size || Date.now() > deadline) return [...open]
    await new Promise((r) => setTimeout(r, 20))
  }
}

let fileNo = 0
const newSlot = (r: () => number): Slot => {
  const fixture = FIXTURE_FILES[Math.floor(r() * FIXTURE_FILES.length)]!
  const text = fs.readFileSync(fixture, 'utf8')
  return { rel: `.rhema/live/f${fileNo++}.yaml`, fixture: path.relative(fixtures, fixture), text, chain: [[0, text]], modes: [] }
}

function dumpChain(slot: Slot, n: number, why: string, diff: string): void {
  if (!DUMP) return
  fs.mkdirSync(DUMP, { recursive: true })
  const about = `test/e2e/edits-live.test.ts CTXSYNC_LIVE_SEED=${SEED}, failure ${n}: ${why}; [writer, saved text] per step, modes per save`
  fs.writeFileSync(path.join(DUMP, `live-${SEED}-${n}.json`), JSON.stringify({ about, fixture: slot.fixture, modes: slot.modes, chain: slot.chain }, null, 1))
  fs.writeFileSync(path.join(DUMP, `live-${SEED}-${n}.diff`), diff)
}

it(`${EDITS} seeded real-world edits through two live daemons: both files hold the saved bytes (seed ${SEED})`, async () => {
  const r = mulberry32(SEED)
  const slots = Array.from({ length: SLOTS }, () => newSlot(r))
  const { peers } = await setupSpace(['a', 'b'], { files: Object.fromEntries(slots.map((s) => [s.rel, s.text])) })
  const [da, db] = [await startWatch(peers[0]!), await startWatch(peers[1]!)]
  await Promise.all([waitLog(da, /connected to b/), waitLog(db, /connected to a/)])
  const run: LiveRun = { tried: {}, failed: {}, failures: [], saves: 0, rounds: 0, resaved: 0, modes: {} }
  const t0 = Date.now()
  const turn = new Map<Slot, number>()
  const waits: number[] = []
  while (run.saves < EDITS) {
    run.rounds++
    const want = new Map<string, string | null>()
    const pending: Array<Promise<void>> = []
    const saved = new Map<string, { slot: Slot; kind: string; writer: number }>()
    for (const [i, slot] of slots.entries()) {
      if (run.saves >= EDITS) break
      if (slot.chain.length > LIVE_CHAIN) {
        // A fresh file replaces the slot: created on one clone, the old one deleted on the other.
        const next = newSlot(r)
        const w = turn.get(slot) ?? i
        slots[i] = next
        await save(peers[w % 2]!, next.rel, next.text, 'in-place')
        fs.rmSync(path.join(peers[(w + 1) % 2]!.dir, slot.rel))
        next.chain[0]![0] = w % 2
        want.set(next.rel, next.text).set(slot.rel, null)
        continue
      }
      // Bursts: sometimes a second save follows the first at once (a formatter on save, an agent's two
      // writes); only the last has to arrive, but the first must not undo it.
      const burst = r() < 0.15 ? 2 : 1
      const w = ((turn.get(slot) ?? i) % 2) as 0 | 1 // slots start on alternate sides: both daemons send and receive in a round
      let kinds = ''
      for (let b = 0; b < burst && run.saves < EDITS; b++) {
        let edit: ReturnType<typeof stacked> = null
        for (let k = 0; k < 5 && (!edit || !parses(edit.text)); k++) edit = stacked(slot.text, r, KINDS)
        if (!edit || !parses(edit.text)) break
        // A paused writer's text lands after the round's other saves: never followed by a burst save.
        const mode: Mode = burst === 1 && r() < PAUSE_SHARE ? 'truncate-pause' : MODES[Math.floor(r() * MODES.length)]!
        await save(peers[w]!, slot.rel, edit.text, mode, pending)
        run.saves++
        run.modes[mode] = (run.modes[mode] ?? 0) + 1
        for (const k of edit.kind.split('+')) run.tried[k] = (run.tried[k] ?? 0) + 1
        slot.chain.push([w, edit.text])
        slot.modes.push(b ? `${mode}+burst` : mode)
        slot.text = edit.text
        kinds = kinds ? `${kinds}+${edit.kind}` : edit.kind
      }
      if (!kinds) continue
      turn.set(slot, w + 1)
      want.set(slot.rel, slot.text)
      saved.set(slot.rel, { slot, kind: kinds, writer: w })
    }
    await Promise.all(pending)
    const t1 = Date.now()
    let late = await settle(peers, want, ROUND_WAIT)
    waits.push(Date.now() - t1)
    // A save that undoes part of what the other side just changed reads as one made from the older text (a
    // stale buffer: recent.ts keeps the peer's change, once). Saved again, as a person would, it must be kept.
    const again = late.filter((rel) => saved.has(rel) && readFile(peers[saved.get(rel)!.writer]!, rel) !== want.get(rel))
    if (again.length) {
      for (const rel of again) await save(peers[saved.get(rel)!.writer]!, rel, want.get(rel)!, 'in-place')
      run.resaved += again.length
      late = await settle(peers, want, ROUND_WAIT)
    }
    if (process.env.CTXSYNC_LIVE_SLOW && Date.now() - t1 > Number(process.env.CTXSYNC_LIVE_SLOW)) console.log(`slow round ${run.rounds}: ${Date.now() - t1} ms, ${[...saved.values()].map((x) => `${x.slot.rel} ${x.slot.modes.at(-1)} ${x.kind}`).join('; ')}`)
    const fresh = new Map<string, string | null>()
    for (const rel of late) {
      const s = saved.get(rel)
      const which = peers.map((p) => `${p.name} ${readFile(p, rel) === want.get(rel) ? 'kept it' : 'differs'}`).join(', ')
      const kind = s?.kind ?? 'new-file'
      for (const k of kind.split('+')) run.failed[k] = (run.failed[k] ?? 0) + 1
      const n = run.failures.length + 1
      const why = `round ${run.rounds} (${kind}, ${s?.slot.modes.at(-1) ?? 'create'} by ${s ? peers[s.writer]!.name : '?'}) of ${rel} from ${s?.slot.fixture ?? '?'}: ${which}`
      const other = peers.find((p) => readFile(p, rel) !== want.get(rel))!
      const diff = textDiff(want.get(rel) ?? null, readFile(other, rel), 'saved', other.name)
      if (run.failures.length < 20) run.failures.push(`${why}\n${diff.slice(0, 1500)}`)
      if (s) {
        dumpChain(s.slot, n, why, diff)
        const i = slots.indexOf(s.slot)
        if (i >= 0) {
          // Retire it: a fresh file takes its place.
          const next = newSlot(r)
          slots[i] = next
          await save(peers[0]!, next.rel, next.text, 'in-place')
          fresh.set(next.rel, next.text)
        }
      }
    }
    if (fresh.size && (await settle(peers, fresh, ROUND_WAIT)).length) throw new Error(`fresh files did not reach both clones (CTXSYNC_LIVE_SEED=${SEED})`)
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1)
  waits.sort((x, y) => x - y)
  const wait = `round wait p50 ${waits[waits.length >> 1]} ms, max ${waits.at(-1)} ms`
  console.log(`live edits (CTXSYNC_LIVE_SEED=${SEED}): ${run.saves} saves in ${run.rounds} rounds, ${secs} s, ${wait}, ${run.resaved} saved again (read as stale once); modes ${JSON.stringify(run.modes)}; tried ${JSON.stringify(run.tried)}; failed ${JSON.stringify(run.failed)}`)
  for (const f of run.failures) console.log(`FAILURE ${f}`)
  expect(await stopWatch(da)).toBe(0)
  expect(await stopWatch(db)).toBe(0)
  // Issue 13: no failure tolerated. The chains of the classes once tolerated here (1 per 200 saves) are fixed
  // and replayed in test/crdt/edits-live-regressions.test.ts; stop 29 ran 1,500 saves at seed 9191 and 400 at
  // 9292 with none. A slot late under heavy load fails too: CTXSYNC_LIVE_WAIT_MS gives rounds longer.
  expect(run.failures, `CTXSYNC_LIVE_SEED=${SEED}: ${run.failures.join('\n')}`).toEqual([])
  expect(Object.keys(run.tried).length).toBeGreaterThan(KINDS.length * 0.6)
}, Math.max(120_000, EDITS * 1_000))

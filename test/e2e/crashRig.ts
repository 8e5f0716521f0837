/**
 * Helpers for the kill -9 tests (crash.test.ts): what a killed peer left on disk, read without starting
 * ctxsync — its YAML file as the user sees it, and its sidecar (the CRDT state) loaded in process with the
 * real store and model, as the next start would load it.
 *
 * The workload is a "ticker": the stable peer A keeps retitling one todo (`tick N`, N only grows) and now and
 * then adds one (`a-N`). Values that only grow make durability checkable without knowing the timing: the
 * victim's file was written from state it had durably applied, so the tick its sidecar holds after the kill
 * is never behind the tick its file shows, and every `a-N` in the file is in the sidecar.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { expect } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { FileDocStore } from '../../src/fs/sidecar.js'
import { asDocName } from '../../src/ids.js'
import { pausedEdit } from './faultRig.js'
import { countId, readFile, TODOS, type Daemon, type Peer } from './helpers.js'

export const TICKER_TODOS = `# Todos for the crash tests
todos:
  - id: ticker
    title: "tick 0"
    status: open
`

export const tickOf = (text: string | null): number => Number(/- id: ticker\n {4}title: "tick (\d+)"/.exec(text ?? '')?.[1] ?? -1)
export const idsOf = (text: string | null, prefix: string): string[] =>
  [...(text ?? '').matchAll(new RegExp(`^  - id: (${prefix}-\\d+)$`, 'gm'))].map((m) => m[1]!)

/** A's side of the workload: the next tick, and every 8th step a new `a-N`; written with A's daemon paused. */
export class Ticker {
  n = 0
  readonly added: string[] = []
  constructor(readonly a: Peer, readonly da: Daemon) {}

  async step(): Promise<void> {
    const n = ++this.n
    const add = n % 8 === 0 ? `a-${n}` : null
    if (add) this.added.push(add)
    await pausedEdit(this.da, this.a, (t) => {
      const out = t.replace(/(- id: ticker\n {4}title: ")tick \d+"/, `$1tick ${n}"`)
      return add ? out + `  - id: ${add}\n    title: "added by a"\n    status: open\n` : out
    })
  }
}

/** Runs A's ticker, a step every 20–80 ms (drawn from `random`), until the returned stopper is awaited. */
export function runTicker(t: Ticker, random: () => number): () => Promise<void> {
  let on = true
  const loop = (async () => {
    while (on) {
      await t.step()
      await new Promise((r) => setTimeout(r, 20 + Math.floor(random() * 60)))
    }
  })()
  return async () => {
    on = false
    await loop
  }
}

/** The victim's file after a kill: whole (parses, ends in a newline, starts as it must), nothing twice. */
export function expectWholeYaml(text: string | null, what: string): void {
  expect(text, `${what}: file missing`).not.toBeNull()
  expect(() => parse(text!), `${what}: does not parse:\n${text}`).not.toThrow()
  expect(text!.startsWith('# Todos for the crash tests\ntodos:\n'), `${what}: head`).toBe(true)
  expect(text!.endsWith('\n'), `${what}: tail`).toBe(true)
  const ids = [...text!.matchAll(/^ {2}- id: (\S+)$/gm)].map((m) => m[1]!)
  expect(ids.filter((id, i) => ids.indexOf(id) !== i), `${what}: ids twice`).toEqual([])
}

/** The todos document as the victim's sidecar holds it, rendered; warnings the store reported on load. */
export async function sidecarText(peer: Peer): Promise<{ text: string | null; warnings: string[] }> {
  const store = new FileDocStore({ dir: path.join(peer.dir, '.ctxsync', 'docs') })
  try {
    const loaded = await store.load(asDocName(TODOS))
    if (!loaded) return { text: null, warnings: [] }
    const m = new FileModel({ name: TODOS, author: { id: 'p-check', name: 'check', kind: 'human' } })
    m.load(loaded.updates)
    return { text: m.render().text, warnings: loaded.warnings }
  } finally {
    await store.close?.()
  }
}

/**
 * After a kill: the file is whole, and the sidecar (loadable, or recovering with a warning) is not behind
 * the file — what the file showed had been made durable first. Returns the sidecar's warnings.
 */
export async function checkAfterKill(peer: Peer, what: string): Promise<string[]> {
  const file = readFile(peer)
  expectWholeYaml(file, what)
  const side = await sidecarText(peer).catch((e: Error) => {
    throw new Error(`${what}: sidecar does not load: ${e.message}`)
  })
  // A clone that has not completed its first exchange yet is joining (src/space/join.ts): its files wait on
  // disk for the live state and nothing of them is in the sidecar or acknowledged — nothing to lose there.
  if (side.text === null && fs.existsSync(path.join(peer.dir, '.ctxsync', 'joining'))) return side.warnings
  expect(side.text, `${what}: sidecar lost the document`).not.toBeNull()
  expect(tickOf(side.text), `${what}: sidecar tick behind the file's`).toBeGreaterThanOrEqual(tickOf(file))
  for (const id of idsOf(file, 'a')) expect(countId(side.text!, id), `${what}: ${id} in the file but not in the sidecar`).toBe(1)
  return side.warnings
}

/** Appends the victim's own todo `b-N` directly (its daemon is not running). */
export function addOwn(peer: Peer, id: string): void {
  fs.appendFileSync(path.join(peer.dir, TODOS), `  - id: ${id}\n    title: "added by b"\n    status: open\n`)
}

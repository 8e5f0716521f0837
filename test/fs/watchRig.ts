/** A Watcher on a temp repository that records its events, for the watcher tests. */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterEach } from 'vitest'
import { DEFAULT_INCLUDE } from '../../src/fs/globs.js'
import { Watcher, type FileEvent } from '../../src/fs/watcher.js'
import { sleep, tmpDir } from './helpers.js'

export type Ev =
  | ({ type: 'file'; at: number } & FileEvent)
  | { type: 'deleted'; path: string; at: number }
  | { type: 'unreadable'; path: string; reason: string; at: number }

export interface Rig {
  root: string
  w: Watcher
  events: Ev[]
  abs(rel: string): string
  /** Resolves with the first event (from index `from` on) matching `pred`. */
  next(pred: (e: Ev) => boolean, timeoutMs?: number): Promise<Ev>
  /** Waits until no event arrived for `ms`, then returns the events since `from`. */
  settle(from: number, ms?: number): Promise<Ev[]>
}

let rigs: Rig[] = []
afterEach(async () => {
  await Promise.all(rigs.map((r) => r.w.close()))
  rigs = []
})

export async function rig(files: Record<string, string> = {}, opts: { deleteGraceMs?: number } = {}): Promise<Rig> {
  const root = await tmpDir('ctxsync-watch-')
  const abs = (rel: string): string => path.join(root, ...rel.split('/'))
  for (const [rel, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(abs(rel)), { recursive: true })
    await fs.writeFile(abs(rel), text)
  }
  const w = new Watcher({ root, include: DEFAULT_INCLUDE, ...opts })
  const events: Ev[] = []
  const waiters: (() => void)[] = []
  const push = (e: Ev): void => {
    events.push(e)
    for (const f of waiters.splice(0)) f()
  }
  w.on('file', (e) => push({ type: 'file', ...e, at: performance.now() }))
  w.on('deleted', (e) => push({ type: 'deleted', ...e, at: performance.now() }))
  w.on('unreadable', (e) => push({ type: 'unreadable', ...e, at: performance.now() }))
  await w.ready()
  const r: Rig = {
    root, w, events, abs,
    next(pred, timeoutMs = 3000) {
      const from = events.length
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching event in ${timeoutMs} ms; got ${JSON.stringify(events.slice(from))}`)), timeoutMs)
        const look = (): void => {
          const hit = events.slice(from).find(pred)
          if (hit) {
            clearTimeout(t)
            resolve(hit)
          } else waiters.push(look)
        }
        look()
      })
    },
    async settle(from, ms = 300) {
      let n = -1
      while (n !== events.length) {
        n = events.length
        await sleep(ms)
      }
      return events.slice(from)
    },
  }
  rigs.push(r)
  return r
}

export const summary = (evs: Ev[]): string[] => evs.map((e) => `${e.type} ${e.path}${e.type === 'file' ? ` ${JSON.stringify(e.text)}` : ''}`)

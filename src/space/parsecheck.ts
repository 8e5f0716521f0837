/**
 * ParseChecker: proves that a rendering parses before it is written, on a worker thread for large texts.
 *
 * Why a thread: a first rendering is checked whole, and the `yaml` parser reads about 2 MB/s. A first sync
 * of a large space spent half its time in that check, on the thread that also integrates the next
 * documents. On the worker the check of one file overlaps with the integration and rendering of the next.
 * Small texts are checked inline (a message round trip and a thread start would cost more than the parse).
 *
 * The worker is started on first need and `unref`'d: a one-shot command exits without closing it. A daemon
 * needs it only for first renderings, so it stops after `idleMs` without work rather than keep its ~10 MB.
 * Where the worker's module is not on disk (the test runner loads TypeScript sources) every check runs
 * inline.
 */
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { parses } from '../crdt/parse.js'
import { logger } from '../debuglog.js'
import type { CheckReply } from './parse-worker.js'

const log = logger('parsecheck')

/** Below this many characters a text is parsed inline (about 30 ms of parsing). */
export const WORKER_MIN_CHARS = 64 * 1024
/** An idle worker is stopped after this long. */
export const WORKER_IDLE_MS = 30_000

export const PARSE_BUDGET_ENV = 'CTXSYNC_PARSE_BUDGET_MS'
export const MAX_ENTRIES_ENV = 'CTXSYNC_MAX_ENTRIES'
/** How long parsing a local file alone may take before the file is held as too complex to sync live. */
export const DEFAULT_PARSE_BUDGET_MS = 5000
/** Entries (mapping pairs and sequence items, at every depth) a file synced live may hold: a 1 MiB todos file has ~16 000. */
export const DEFAULT_MAX_ENTRIES = 50_000

const envNumber = (name: string, def: number, min: number): number => {
  const v = Number(process.env[name])
  return Number.isFinite(v) && v >= min ? v : def
}

/** How far a text may differ in length from the one the model took in last and still count as an edit of it. */
export const EDIT_CHARS = WORKER_MIN_CHARS / 4

/**
 * Why a large local file is held before the CRDT takes it in (null: it may go on). Deterministic by its
 * entry count — every peer decides alike — and, past a time budget for parsing alone, by time: either way
 * the work it would cost, with the daemon's event loop blocked, is bounded.
 *
 * `lastLength`: the length of the text the model took in last, if any. A text within `EDIT_CHARS` of it is an
 * edit of a file already gauged: the model parses only the changed part, and gauging it would parse the whole
 * file once more on every save (~0.4 s for 1 MB) for an answer that cannot have moved far.
 */
export async function tooCostly(checker: ParseChecker, text: string, lastLength: number | null = null): Promise<string | null> {
  if (lastLength !== null && Math.abs(text.length - lastLength) < EDIT_CHARS) return null
  const budget = envNumber(PARSE_BUDGET_ENV, DEFAULT_PARSE_BUDGET_MS, 100)
  const max = envNumber(MAX_ENTRIES_ENV, DEFAULT_MAX_ENTRIES, 1)
  const g = await checker.gauge(text, budget)
  if (g === 'slow') {
    return `parsing it alone took longer than ${(budget / 1000).toFixed(1)} s (${Math.round(text.length / 1024)} KiB): too large or complex to sync live — split it (${PARSE_BUDGET_ENV} raises the limit)`
  }
  if (typeof g === 'number' && g > max) {
    return `it holds ${g} YAML entries, more than ctxsync syncs live (${max}) — split it (${MAX_ENTRIES_ENV} raises the limit)`
  }
  return null
}

export interface ParseCheckerOptions {
  minChars?: number
  /** The worker's module; default: `parse-worker.js` beside this module (in dist/ and in the bundle). */
  workerUrl?: URL
  idleMs?: number
}

export class ParseChecker {
  readonly #minChars: number
  readonly #url: URL | null
  readonly #idleMs: number
  #worker: Worker | null = null
  #idle: NodeJS.Timeout | undefined
  #next = 1
  readonly #waiting = new Map<number, { resolve: (r: CheckReply & { ok: boolean }) => void; reject: (e: Error) => void }>()

  constructor(opts: ParseCheckerOptions = {}) {
    this.#minChars = opts.minChars ?? WORKER_MIN_CHARS
    this.#idleMs = opts.idleMs ?? WORKER_IDLE_MS
    const url = opts.workerUrl ?? new URL('./parse-worker.js', import.meta.url)
    this.#url = url.protocol === 'file:' && fs.existsSync(fileURLToPath(url)) ? url : null
  }

  /** True when `text` parses as a file ctxsync may write. */
  check(text: string): Promise<boolean> {
    if (text.length < this.#minChars || !this.#url) return Promise.resolve(parses(text))
    return this.#ask(this.#url, { text }).then((r) => r.ok)
  }

  /**
   * Before a large local file is taken in, on the worker: its entry count (null: it does not parse, and the
   * model will say where), or 'slow' when parsing it alone took longer than `budgetMs` — then the daemon
   * holds it rather than spend many times that on the CRDT with its event loop blocked (heartbeats lost,
   * every other file waiting). A slow parse is left to finish on the worker; only its answer is dropped.
   * Small texts, and runs without the worker's module, are not gauged (`'small'`).
   */
  gauge(text: string, budgetMs: number): Promise<number | null | 'slow' | 'small'> {
    if (text.length < this.#minChars || !this.#url) return Promise.resolve('small')
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve('slow'), budgetMs)
      this.#ask(this.#url!, { text, gauge: true }).then(
        (r) => {
          clearTimeout(timer)
          resolve('entries' in r ? (r.entries ?? null) : null)
        },
        (e: Error) => {
          clearTimeout(timer)
          reject(e)
        },
      )
    })
  }

  #ask(url: URL, req: { text: string; gauge?: true }): Promise<CheckReply & { ok: boolean }> {
    clearTimeout(this.#idle)
    const worker = this.#worker ?? this.#start(url)
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      worker.postMessage({ id, ...req })
    })
  }

  #start(url: URL): Worker {
    log('starting the parse worker (%s)', url.pathname)
    const w = new Worker(url)
    w.unref()
    w.on('message', (m: CheckReply) => {
      const waiter = this.#waiting.get(m.id)
      this.#waiting.delete(m.id)
      if ('error' in m) waiter?.reject(new Error(`checking a rendering: ${m.error}`))
      else waiter?.resolve(m)
      if (this.#waiting.size === 0) this.#stopWhenIdle(w)
    })
    // A dead worker must not strand its callers: they get the error, and the next check starts a new one.
    const fail = (err: Error) => {
      log('parse worker failed: %s', err.message)
      if (this.#worker === w) this.#worker = null
      for (const waiter of this.#waiting.values()) waiter.reject(err)
      this.#waiting.clear()
    }
    w.on('error', fail)
    w.on('exit', (code) => {
      if (this.#worker === w) fail(new Error(`parse worker exited (code ${code})`))
    })
    this.#worker = w
    return w
  }

  #stopWhenIdle(w: Worker): void {
    clearTimeout(this.#idle)
    this.#idle = setTimeout(() => {
      if (this.#worker !== w || this.#waiting.size > 0) return
      log('stopping the idle parse worker')
      this.#worker = null
      void w.terminate()
    }, this.#idleMs)
    this.#idle.unref()
  }

  /** Whether a worker thread is running now (for tests). */
  get running(): boolean {
    return this.#worker !== null
  }

  async close(): Promise<void> {
    clearTimeout(this.#idle)
    const w = this.#worker
    this.#worker = null
    for (const waiter of this.#waiting.values()) waiter.reject(new Error('the space closed while a rendering was being checked'))
    this.#waiting.clear()
    if (w) await w.terminate()
  }
}

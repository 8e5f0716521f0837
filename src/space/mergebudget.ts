/**
 * The merge driver's bound in time and memory. git waits for the driver, so a file that would take the
 * CRDT merge minutes (a flat mapping of 20 000 keys, a flow map of 700 000 entries: found by an attacker,
 * still running after 300 s with 3.7 GB) must not hang `git merge`: past the budget the merge is given up
 * and the driver falls back to git's text merge, saying why.
 *
 * Synchronous work cannot be interrupted, so a large merge runs on a worker thread, terminated at the
 * deadline, with a heap limit (running out of it is the same fallback). A merge that gives the CRDT only
 * small texts runs inline — the usual case, a few items changed on both sides of a large file: a thread
 * costs a hundred milliseconds of module loading, and what is small cannot take long. Only when a unit (or
 * the whole file) to merge through the CRDT is large is the job run again on the worker. Where the worker's
 * module is not on disk (the test runner loads TypeScript sources) everything runs inline.
 */
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { logger } from '../debuglog.js'
import type { MergeReply } from './merge-worker.js'
import { NeedsBudget, runMergeJob, type MergeJob, type MergeOutcome } from './mergejob.js'

const log = logger('merge-budget')

export const MERGE_BUDGET_ENV = 'CTXSYNC_MERGE_BUDGET_MS'
export const DEFAULT_MERGE_BUDGET_MS = 15_000
/** Up to this many characters of text given to the CRDT at once, a merge runs inline (≈1 s at worst). */
export const INLINE_CRDT_CHARS = 48 * 1024
/** The worker's heap limit. */
const WORKER_HEAP_MB = 1024

export function mergeBudgetMs(): number {
  const v = Number(process.env[MERGE_BUDGET_ENV])
  return Number.isFinite(v) && v >= 100 ? v : DEFAULT_MERGE_BUDGET_MS
}

export interface BoundedOptions {
  budgetMs?: number
  inlineChars?: number
  workerUrl?: URL
}

export async function runMergeBounded(job: MergeJob, o: BoundedOptions = {}): Promise<MergeOutcome> {
  const url = o.workerUrl ?? new URL('./merge-worker.js', import.meta.url)
  if (url.protocol !== 'file:' || !fs.existsSync(fileURLToPath(url))) return runMergeJob(job)
  // Most merges give the CRDT only a few small items (the region merge): inline, they cost no thread.
  try {
    return await runMergeJob(job, o.inlineChars ?? INLINE_CRDT_CHARS)
  } catch (e) {
    if (!(e instanceof NeedsBudget)) throw e
  }
  log('merge of %s needs the CRDT on a large text: on a worker, within %d ms', job.name, o.budgetMs ?? mergeBudgetMs())
  const budgetMs = o.budgetMs ?? mergeBudgetMs()
  const secs = (budgetMs / 1000).toFixed(budgetMs < 10_000 ? 1 : 0)
  return new Promise<MergeOutcome>((resolve, reject) => {
    const w = new Worker(url, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } })
    let done = false
    const finish = (f: () => void) => {
      if (done) return
      done = true
      clearTimeout(timer)
      void w.terminate()
      f()
    }
    const timer = setTimeout(() => {
      log('merge of %s over its budget (%d ms): terminating', job.name, budgetMs)
      finish(() => resolve({ kind: 'fallback', why: `merging it as YAML took longer than ${secs} s (${MERGE_BUDGET_ENV} raises the limit)` }))
    }, budgetMs)
    w.on('message', (m: MergeReply) => finish(() => ('outcome' in m ? resolve(m.outcome) : reject(new Error(`merging ${job.name}: ${m.error}`)))))
    w.on('error', (e: Error & { code?: string }) => {
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') finish(() => resolve({ kind: 'fallback', why: `merging it as YAML needs more than ${WORKER_HEAP_MB} MB` }))
      else finish(() => reject(e))
    })
    w.on('exit', (code) => finish(() => reject(new Error(`the merge worker exited (code ${code})`))))
    w.postMessage(job)
  })
}

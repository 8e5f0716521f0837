/**
 * Worker thread of the merge driver's time budget (`mergebudget.ts`): runs one `MergeJob` and answers with
 * its outcome, or `{ error }`. One job per thread; the thread is terminated when the budget runs out.
 */
import { parentPort } from 'node:worker_threads'
import { runMergeJob, type MergeJob, type MergeOutcome } from './mergejob.js'

export type MergeReply = { outcome: MergeOutcome } | { error: string }

parentPort?.once('message', (job: MergeJob) => {
  runMergeJob(job).then(
    (outcome) => parentPort!.postMessage({ outcome } satisfies MergeReply),
    (e: Error) => parentPort!.postMessage({ error: e.stack ?? e.message } satisfies MergeReply),
  )
})

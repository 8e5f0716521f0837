/**
 * The merge driver's parts (`ctxsync merge-driver`, run by git for every conflicting context file): the
 * job, bounded in time and memory on a worker (`mergebudget.ts`, `mergejob.ts`), and the size limit of
 * the files it reads. One lazily loaded part of the façade (`index.ts`).
 */
export { runMergeBounded } from './mergebudget.js'
export { jobName } from './mergejob.js'
export { keepMerge } from './mergefile.js'
export { MAX_BYTES_ENV, maxFileBytes } from '../fs/atomic.js'
export { mergeFileInPlace } from '../git/merge-file.js'

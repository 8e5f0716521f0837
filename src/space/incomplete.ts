/**
 * How long a file may go unwritten while its document waits for an update it depends on.
 *
 * Yjs holds an update whose structs follow one it has not received as pending, and a state with pending
 * structs is not written (its deletions may be applied, their replacements not: an empty value nobody
 * wrote). The missing update is usually a sync round away. But a member can send an update whose
 * predecessor it never sends (well-formed; the guard checks pending structs only once they can be applied),
 * and an honest one can be lost for good: the file was then never written again — every later change of
 * every peer reached the model, none the file, `status` said synced. So after `WHOLE_WAIT_MS` the state
 * is written as it is (checked and repaired like any), and again on every change; the pending structs stay,
 * applied if their update ever comes (dropping them would lose an honest peer's writes until the next session).
 */
import { wholeWaitMs } from '../net/whole.js'

/** One file's incomplete spell (`TrackedFile.incomplete`): when it began, its retry, whether it was said. */
export class IncompleteWait {
  #since: number | null = null
  #scheduled = false
  #told = false

  /**
   * Whether the file's state may be written now: complete, or incomplete for long enough. Otherwise `retry`
   * is called once, when the wait is over.
   */
  writable(complete: boolean, retry: (ms: number) => void, now = Date.now()): boolean {
    if (complete) {
      this.#since = null
      this.#told = false
      return true
    }
    this.#since ??= now
    const wait = this.#since + wholeWaitMs() - now
    if (wait <= 0) return true
    if (!this.#scheduled) {
      this.#scheduled = true
      retry(wait)
    }
    return false
  }

  /** The retry scheduled by `writable` ran. */
  retried(): void {
    this.#scheduled = false
  }

  /** True once per incomplete spell, at its first late write: the daemon says so. */
  firstLateWrite(complete: boolean): boolean {
    if (complete || this.#told) return false
    this.#told = true
    return true
  }
}

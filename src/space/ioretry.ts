/**
 * Tracked files that could not be read or written lately (a read-only tree, a full disk, no descriptors
 * left): each keeps its reason on its file (`TrackedFile.ioError`, which `status` shows as `failing`) until
 * a read or write of it works again, and the failed step is retried meanwhile with backoff (0.25 s
 * doubling to 30 s). Said once per failure, not once per retry; failures of the sidecar store (whose
 * retries `DocLog` runs itself) at most once every 10 s.
 */
import type { DocName } from '../ids.js'
import { logger } from '../debuglog.js'
import type { TrackedFile } from './trackedfile.js'

const log = logger('space:io')

export class IoRetry {
  readonly #retries = new Map<DocName, { timer: NodeJS.Timeout | null; attempts: number }>()
  #closed = false
  #lastStoreWarn = 0

  constructor(
    private readonly fileOf: (name: DocName) => TrackedFile,
    private readonly warn: (message: string) => void,
    private readonly changed: () => void,
  ) {}

  /** `again` runs with backoff until `recovered`; without it the caller retries (the watcher does, for reads). */
  failed(name: DocName, err: Error, again?: () => void): void {
    const first = this.fileOf(name).ioFailed(err.message)
    if (first) this.warn(`${name}: ${err.message} (retried until it works; \`ctxsync status\` shows it meanwhile)`)
    this.changed()
    if (!again || this.#closed) return
    const r = this.#retries.get(name) ?? { timer: null, attempts: 0 }
    this.#retries.set(name, r)
    if (r.timer) return
    r.timer = setTimeout(() => {
      r.timer = null
      again()
    }, Math.min(30_000, 250 * 2 ** Math.min(r.attempts++, 7)))
    r.timer.unref()
  }

  recovered(e: { readonly file: TrackedFile } | undefined): void {
    if (!e || !e.file.ioRecovered()) return
    const r = this.#retries.get(e.file.name)
    if (r?.timer) clearTimeout(r.timer)
    this.#retries.delete(e.file.name)
    log('%s: reading and writing work again', e.file.name)
    this.changed()
  }

  /** The store refused a write (full disk, read-only `.ctxsync/`): the document's log keeps the updates (`doclog.ts`). */
  storeFailed(err: Error): void {
    // Once every 10 s at most: a full disk fails every write, meta ones included.
    if (Date.now() - this.#lastStoreWarn > 10_000) {
      this.#lastStoreWarn = Date.now()
      this.warn(`could not save sync state: ${err.message} (kept in memory and retried; \`ctxsync status\` shows what waits)`)
    }
    this.changed()
  }

  close(): void {
    this.#closed = true
    for (const r of this.#retries.values()) if (r.timer) clearTimeout(r.timer)
  }
}

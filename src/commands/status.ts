/**
 * `ctxsync status`: each tracked file's state, the peers, conflicts, and whether a daemon runs. Asks the
 * daemon when one runs; otherwise answers from the last known state without loading any CRDT.
 */
import { coldStatus, type StatusData } from '../space/status.js'

export interface StatusOptions {
  cwd: string
}

export type { StatusData }

export function status(o: StatusOptions): Promise<StatusData> {
  return coldStatus(o.cwd)
}

/** `--check`: true when every file is fine (nothing held, refused or conflicted). */
export function statusOk(s: StatusData): boolean {
  return s.files.every((f) => f.state === 'synced' || f.state === 'pending')
}

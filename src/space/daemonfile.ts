/**
 * Whether a daemon runs for a space (`.ctxsync/daemon.json` with a live pid). A module of its own because
 * git hooks ask this on every commit and must not load what `status` needs (the YAML parser).
 */
import fs from 'node:fs/promises'
import type { SpacePaths } from './paths.js'

export interface DaemonFile {
  pid: number
  url: string
  socket: string
}

/** The running daemon of this space, if its pid is alive. */
export async function runningDaemon(paths: SpacePaths): Promise<DaemonFile | null> {
  try {
    const info = JSON.parse(await fs.readFile(paths.daemon, 'utf8')) as DaemonFile
    process.kill(info.pid, 0)
    return info
  } catch {
    return null
  }
}

/** `ctxsync stop`: stops the daemon of this space (it saves its state first). */
import { CtxError } from '../errors.js'
import { daemonClient, requireRoot, spacePaths } from '../space/index.js'

export interface StopOptions {
  cwd: string
  timeoutSec?: number
}

export interface StopResult {
  stopped: boolean
  pid?: number
}

export async function stop(o: StopOptions): Promise<StopResult> {
  const root = requireRoot(o.cwd)
  const daemon = await daemonClient(spacePaths(root))
  if (!daemon) return { stopped: false }
  try {
    await daemon.stop()
  } catch {
    process.kill(daemon.pid, 'SIGTERM')
  }
  const deadline = Date.now() + (o.timeoutSec ?? 20) * 1000
  while (Date.now() < deadline) {
    try {
      process.kill(daemon.pid, 0)
    } catch {
      return { stopped: true, pid: daemon.pid }
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new CtxError('stop-timeout', `the daemon (pid ${daemon.pid}) did not stop within ${o.timeoutSec ?? 20} s; \`kill ${daemon.pid}\` ends it`)
}

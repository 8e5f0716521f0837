/**
 * `ctxsync watch`: the daemon, in the foreground (Ctrl-C or SIGTERM stop it cleanly) or detached
 * (`--detach`, stopped by `ctxsync stop`).
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import { CtxError, UsageError } from '../errors.js'
import { checkOneMode, checkPeerUrls, checkPort, checkRegistryUrl, requireRoot, runningDaemon, spacePaths, startDaemon, type DaemonInfo, type DaemonOptions } from '../space/index.js'

/**
 * Node flags for the background daemon. A small young generation: V8 grows it up to 32 MiB when a
 * stream of edits keeps objects alive across scavenges, and that memory is seldom given back, so a busy
 * daemon's RSS kept climbing for many minutes (bench/soak.mjs). With 2 MiB semispaces it levels off
 * lower; scavenges get more frequent but stay short. V8 reads this flag only at start-up.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2']

/** The daemon's options; mDNS always comes from bonjour here (tests pass a fake to `Daemon` directly). */
export type WatchOptions = Omit<DaemonOptions, 'discovery'>

function check(o: WatchOptions): void {
  if (o.port !== undefined) checkPort(o.port)
  checkPeerUrls(o.peers)
  checkRegistryUrl(o.registry)
  if (o.maxFrameBytes !== undefined && !(Number.isInteger(o.maxFrameBytes) && o.maxFrameBytes >= 4096)) {
    throw new UsageError('--max-frame must be a number of bytes, at least 4096')
  }
  checkOneMode(o.peers, o.registry)
}

/** Runs the daemon until it is stopped; resolves with its info once listening (`started`) and when done. */
export async function watch(o: WatchOptions & { onStarted?: (info: DaemonInfo, files: number) => void }): Promise<DaemonInfo> {
  check(o)
  // What is said while the daemon starts (a peer already connected, a file enrolled) comes after the line
  // that says what runs: a log that began "connected to ann", then "watching 1 file(s)", read as a
  // reconnection (first-day session, issue 17).
  let early: string[] | null = []
  const say = (line: string) => void (early ? early.push(line) : o.say(line))
  const flush = () => {
    for (const l of early ?? []) o.say(l)
    early = null
  }
  let daemon = await startDaemon({ ...o, say }).catch((e: unknown) => {
    flush()
    throw e
  })
  // A file awaiting its join has no state yet but is watched all the same ("watching 0 file(s)" misled).
  o.onStarted?.(daemon.info, [...daemon.space.docs()].filter((e) => e.model.exists() || e.diskHash !== null).length)
  flush()
  // `on`, not `once`: our handler must stay registered until the daemon is done. signal-exit (used by
  // write-file-atomic and proper-lockfile) re-raises a signal when it finds itself the only listener; with
  // `once` ours is gone as soon as it runs, so a file write under way during shutdown turned a clean SIGTERM
  // into death by signal. A second signal while stopping means "now".
  let signals = 0
  const stop = (sig: NodeJS.Signals) => {
    if (signals++ > 0) {
      o.say(`${sig} again: exiting without waiting (saved state is durable)`)
      process.exit(sig === 'SIGINT' ? 130 : 143)
    }
    void daemon.stop()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  await daemon.done
  // `branches: separate`: a checkout switched branch; start again on the new branch's state.
  while (daemon.restartWanted && signals === 0) {
    daemon = await startDaemon({ ...o, say })
    await daemon.done
  }
  process.off('SIGINT', stop)
  process.off('SIGTERM', stop)
  return daemon.info
}

/** Starts the daemon in the background (output to `.ctxsync/daemon.log`) and waits until it listens. */
/** The command line a detached daemon runs: `script` (the CLI) with this run's options. */
function detachedArgv(script: string, o: Omit<WatchOptions, 'say'>): string[] {
  return [
    script, 'watch', '-C', o.cwd, ...(o.port !== undefined ? ['--port', String(o.port)] : []), ...(o.host ? ['--host', o.host] : []),
    ...(o.peers ?? []).flatMap((p) => ['--peer', p]), ...(o.registry ? ['--registry', o.registry] : []), ...(o.insecure ? ['--insecure'] : []),
    ...(o.maxFrameBytes !== undefined ? ['--max-frame', String(o.maxFrameBytes)] : []),
  ]
}

/** `script`: the CLI's entry (process.argv[1]), started again as the daemon. */
export async function watchDetached(o: Omit<WatchOptions, 'say'> & { script: string }): Promise<DaemonInfo & { log: string }> {
  check({ ...o, say: () => {} })
  const root = requireRoot(o.cwd)
  const paths = spacePaths(root)
  const running = await runningDaemon(paths)
  if (running) throw new CtxError('already-running', `a daemon already runs for this space (pid ${running.pid}, ${running.url}): \`ctxsync stop\` stops it`)
  await fsp.rm(paths.daemon, { force: true })
  // A fresh checkout syncing with a token has no .ctxsync/ yet: the daemon makes the rest, the log needs it now.
  await fsp.mkdir(paths.state, { recursive: true, mode: 0o700 })
  const out = fs.openSync(paths.log, 'a')
  const flags = DAEMON_NODE_FLAGS.filter((f) => !process.execArgv.some((a) => a.startsWith(f.split('=')[0]!)))
  const child = spawn(process.execPath, [...flags, ...process.execArgv, ...detachedArgv(o.script, o)], { cwd: root, detached: true, stdio: ['ignore', out, out], env: process.env })
  fs.closeSync(out)
  let exited: number | null = null
  child.on('exit', (code) => (exited = code ?? 1))
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (exited !== null) {
      const tail = (await fsp.readFile(paths.log, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join('\n')
      throw new CtxError('daemon-failed', `the daemon stopped right away (exit ${exited}):\n${tail}`)
    }
    const info = await fsp.readFile(paths.daemon, 'utf8').then((t) => JSON.parse(t) as DaemonInfo).catch(() => null)
    if (info && info.pid === child.pid) {
      child.unref()
      return { ...info, log: paths.log }
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill('SIGTERM')
  throw new CtxError('daemon-failed', `the daemon did not start within 30 s; see ${paths.log}`)
}

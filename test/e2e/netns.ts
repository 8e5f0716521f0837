/**
 * A private network namespace for e2e tests that multicast (mDNS): `unshare -rn` (a user namespace, so no
 * root is needed, and a network namespace holding only its own loopback) runs a holder process; commands
 * join it with `nsenter`, so several daemons and the checks share that one namespace. Multicast sent there
 * reaches only that loopback, never a real network (DEVELOPERS.md, network rule).
 *
 * `netnsProblem()` says why a namespace cannot be made here (the test then skips, saying so).
 */
import { spawnSync } from 'node:child_process'
import { execa, type ResultPromise } from 'execa'
import { CLI, waitFor, type Daemon, type Peer, type RunResult } from './helpers.js'

const SETUP = [
  'ip link set lo up',
  // Loopback multicast: on by default on most kernels; the route makes 224.0.0.251 leave through lo.
  'ip link set lo multicast on 2>/dev/null || true',
  'ip route add 224.0.0.0/4 dev lo 2>/dev/null || true',
].join(' && ')

let problem: string | null | undefined

/** null when `unshare -rn` works here, else why not. */
export function netnsProblem(): string | null {
  if (problem !== undefined) return problem
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', `${SETUP} && ip -o link show lo`], { encoding: 'utf8', timeout: 10_000 })
  if (r.error) problem = `cannot run unshare: ${r.error.message}`
  else if (r.status !== 0) problem = `unshare -rn failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n')[0]}`
  else if (!spawnSync('nsenter', ['--version']).stdout) problem = 'nsenter is not installed'
  else problem = null
  return problem
}

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { NO_COLOR: '1', CTXSYNC_SECRET: undefined, CTXSYNC_NO_MDNS: undefined, DEBUG: process.env.CTXSYNC_E2E_DEBUG, GIT_TERMINAL_PROMPT: '0', ...extra }
}

export class Netns {
  readonly #procs = new Set<ResultPromise>()
  private constructor(
    readonly holder: ResultPromise,
    readonly pid: number,
  ) {}

  static async open(): Promise<Netns> {
    const holder = execa('unshare', ['-rn', 'sh', '-c', `${SETUP} && echo ready && exec sleep 3600`], { reject: false, stdin: 'ignore', buffer: false })
    let out = ''
    holder.stdout!.setEncoding('utf8')
    holder.stdout!.on('data', (c: string) => (out += c))
    await waitFor(() => out.includes('ready'), 10_000, 'the namespace holder', () => out)
    return new Netns(holder, holder.pid!)
  }

  /** The argv prefix that runs a command inside the namespace. */
  get enter(): string[] {
    return ['nsenter', '-t', String(this.pid), '-U', '-n', '--preserve-credentials']
  }

  /** Runs the CLI inside the namespace to completion. */
  async ctx(cwd: string, args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<RunResult> {
    const [cmd, ...pre] = this.enter
    const r = await execa(cmd!, [...pre, 'node', CLI, ...args], { cwd, reject: false, env: env(extraEnv), timeout: 60_000, stdin: 'ignore' })
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) }
  }

  /** Starts `ctxsync watch` inside the namespace (nsenter execs it: the process is the daemon). */
  async watch(peer: Peer, extra: string[] = [], extraEnv: Record<string, string | undefined> = {}): Promise<Daemon> {
    const [cmd, ...pre] = this.enter
    const proc = execa(cmd!, [...pre, 'node', CLI, 'watch', '--port', String(peer.port), ...extra], {
      cwd: peer.dir, reject: false, env: env(extraEnv), stdin: 'ignore', buffer: false, forceKillAfterDelay: 60_000,
    })
    this.#procs.add(proc)
    let err = ''
    proc.stderr!.setEncoding('utf8')
    proc.stderr!.on('data', (c: string) => (err += c))
    proc.stdout!.resume()
    let exited = false
    void proc.then(() => (exited = true), () => (exited = true))
    await waitFor(() => {
      if (exited) throw new Error(`watch in ${peer.name} exited at start:\n${err}`)
      return err.includes('listening on ')
    }, 20_000, `watch of ${peer.name} to listen`, () => err)
    return { peer, proc, log: () => err }
  }

  /** Starts any long-running command inside the namespace; its output so far is `log()`. */
  spawn(argv: string[], cwd: string): { log: () => string; exited: () => boolean } {
    const [cmd, ...pre] = this.enter
    const proc = execa(cmd!, [...pre, ...argv], { cwd, reject: false, env: env(), stdin: 'ignore', buffer: false, forceKillAfterDelay: 60_000 })
    this.#procs.add(proc)
    let out = ''
    for (const s of [proc.stdout!, proc.stderr!]) {
      s.setEncoding('utf8')
      s.on('data', (c: string) => (out += c))
    }
    let exited = false
    void proc.then(() => (exited = true), () => (exited = true))
    return { log: () => out, exited: () => exited }
  }

  /** Stops every daemon started here (SIGTERM, then SIGKILL after a while) and the holder. */
  async close(): Promise<void> {
    const procs = [...this.#procs]
    for (const p of procs) p.kill('SIGTERM')
    const done = Promise.all(procs.map((p) => p.catch(() => undefined)))
    const t = setTimeout(() => procs.forEach((p) => p.kill('SIGKILL')), 15_000)
    await done
    clearTimeout(t)
    this.holder.kill('SIGKILL')
    await this.holder.catch(() => undefined)
  }
}

/**
 * The command line: commander lives here and only here. Each action parses its flags into the typed
 * options of a command function (`src/commands/`), prints the returned data (`--json` prints it as is),
 * and one catch at the bottom turns typed errors into exit codes:
 *   0 ok · 1 error (the message says what to do) · 2 usage · 3 no peer reachable · 4 a --check failed ·
 *   5 access refused.
 */
import { Command, CommanderError, Option } from 'commander'
import type { ResolveIO, Take } from './commands/resolve.js'
import { CtxError, ExitCode, ExitError, UsageError } from './errors.js'
import { formatConflicts, formatInit, formatStatus, formatSync, fmtBytes } from './output.js'
import { packageVersion } from './pkg.js'
import { examples, fitHelp, prose, spinnable } from './clihelp.js'
import { err, json, out, parseTakeArg, terminal, warn } from './cliio.js'
import { registerHistory } from './clihistory.js'
import { registerPeers } from './clipeers.js'
import { checkPort } from './space/flags.js'
import { visible, visibleLines } from './visible.js'
import { colorOn } from './timefmt.js'

// Command modules are loaded when their command runs: `status` in a hook should not pay for the network
// stack, nor `--version` for anything.
const commands = {
  demo: () => import('./commands/demo.js'),
  hook: () => import('./commands/hook.js'),
  hooks: () => import('./commands/hooks.js'),
  log: () => import('./commands/log.js'),
  mergeDriver: () => import('./commands/merge-driver.js'),
  init: () => import('./commands/init.js'),
  invite: () => import('./commands/invite.js'),
  resolve: () => import('./commands/resolve.js'),
  serve: () => import('./commands/serve.js'),
  status: () => import('./commands/status.js'),
  stop: () => import('./commands/stop.js'),
  sync: () => import('./commands/sync.js'),
  token: () => import('./commands/token.js'),
  watch: () => import('./commands/watch.js'),
}

const collect = (v: string, prev: string[] = []) => [...prev, v]
const port = (v: string) => checkPort(v)
/** A flag's positive number (`whole`: an integer); else a usage error, `%` standing for what was given. */
const positive = (expected: string, whole = true) => (v: string) => {
  const n = Number(v)
  if (!(n > 0) || (whole && !Number.isInteger(n))) throw new UsageError(expected.replace('%', v))
  return n
}
const bytes = positive('%: expected a number of bytes')
const count = positive('%: expected a positive whole number')
const seconds = positive('--timeout %: expected a positive number of seconds', false)


function cwdOf(cmd: Command): string {
  return (cmd.optsWithGlobals() as { cwd?: string }).cwd ?? process.cwd()
}

export function buildProgram(): Command {
  const program = fitHelp(new Command('ctxsync'))
    .description('Keep a repository\'s YAML context files (Rhema .rhema/*.yaml) in sync, live, between machines and AI agents.')
    .version(packageVersion(), '-v, --version')
    .option('-C, --cwd <dir>', 'run as if started in <dir>')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText('after', examples(
      'npx ctxsync init                      # set up this clone (creates the space on first use)',
      'npx ctxsync watch                     # sync live until Ctrl-C',
      'npx ctxsync sync --peer ws://10.0.0.5:7420   # one-shot, for scripts and CI',
      'npx ctxsync status --check            # exit 4 when a file is held or conflicted',
      'npx ctxsync serve --data /var/lib/ctxsync   # a relay/registry for peers that cannot reach each other',
    ) + prose('\nExit codes: 0 ok, 1 error, 2 usage, 3 no peer reachable, 4 a --check failed, 5 access refused.\n'))

  program.command('init')
    .description('set up this clone: create or join the space, create this machine\'s identity, enroll the tracked files')
    .option('--name <name>', 'how this peer is shown to others (default: git user.name)')
    .option('--agent', 'this peer is an AI agent')
    .option('--port <port>', 'port `ctxsync watch` listens on (default 7420)', port)
    .option('--peer <url>', 'a peer to keep connected to (repeatable)', collect)
    .addOption(new Option('--discovery <mode>', 'how peers find each other (a new space: mdns, listening on 0.0.0.0 for LAN peers; registry when --registry is given)').choices(['none', 'mdns', 'registry']))
    .option('--registry <url>', 'registry/relay URL (with --discovery registry)')
    .option('--join <code>', 'join an existing space with a code from `ctxsync invite`')
    .option('--hooks', 'also install the git hooks and the merge driver (`ctxsync hooks install`)')
    .option('--no-git', 'go on outside a git repository (no sync points, no hooks)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('ctxsync init --name "Ada" ', 'ctxsync init --join ctxsync1-eyJ2Ijox…', 'ctxsync init --agent --name claude --peer ws://127.0.0.1:7420'))
    .action(async (o, cmd: Command) => {
      const { init } = await commands.init()
      const r = await init({ cwd: cwdOf(cmd), name: o.name, agent: o.agent, port: o.port, peers: o.peer, discovery: o.discovery, registry: o.registry, join: o.join, hooks: o.hooks, noGit: o.git === false, warn })
      if (o.json) json(r)
      else {
        out(formatInit(r))
        if (r.hooks) out((await import('./output-git.js')).formatHooksInstall(r.hooks))
      }
    })

  program.command('invite')
    .description('print a join code for this space (a secret: share it privately); the code is the last line')
    .option('--peer <url>', 'a URL where the new member can reach a peer (repeatable)', collect)
    .option('--json', 'print {code} as JSON')
    .addHelpText('after', examples('ctxsync invite', 'ctxsync invite --peer ws://192.168.1.20:7420'))
    .action(async (o, cmd: Command) => {
      const { invite } = await commands.invite()
      const r = await invite({ cwd: cwdOf(cmd), peers: o.peer })
      if (o.json) json({ code: r.code })
      else {
        // Said with it: the code is the secret (it was pasted in team chats), and where the peer is when the space finds none by itself (issue 17).
        err(`join code for space ${r.space}: on the other machine, in its clone, run \`ctxsync init --join CODE\`. The code holds the space's secret: share it privately.`)
        if (r.discovery === 'none' && r.peers.length === 0) err('This space finds no peers by itself (discovery: none) and the code names none: give that machine a peer too (`--peer ws://HOST:PORT` with init), or make the code with `ctxsync invite --peer URL`.')
        out(r.code)
      }
    })

  program.command('sync')
    .description('one-shot: take in local changes, exchange with peers until both sides hold everything, write files')
    .option('--peer <url>', 'peer to sync with (repeatable; replaces the configured peers)', collect)
    .option('--registry <url>', 'sync with this relay only (registry mode for this run)')
    .option('--insecure', 'allow a ws:// registry that is not on this machine (no TLS)')
    .option('--timeout <sec>', 'give up after this many seconds without progress', seconds, 30)
    .option('--json', 'print a JSON summary')
    .addHelpText('after', examples('ctxsync sync', 'ctxsync sync --peer ws://10.0.0.5:7420 --timeout 10 --json', 'CTXSYNC_TOKEN=… ctxsync sync --registry wss://relay.example.com --json   # CI: no init, no secret') +
      prose('\nExit codes: 0 at least one peer synced, 3 no peer reachable (local changes stay pending), 5 every reachable peer refused access, or the token is read-only and local changes stay pending. SIGTERM or Ctrl-C end it at once, as the signal does (143, 130 in a shell).\n'))
    .action(async (o, cmd: Command) => {
      const { sync, syncExit } = await commands.sync()
      // A spinner only where it can draw: with no width (`script`, `docker run -t` before a resize) ora
      // redrew endlessly, gigabytes of escapes at 100 % CPU, deaf to --timeout and SIGTERM (issue 17).
      const ora = !o.json && spinnable() ? (await import('ora')).default : null
      // Its own colour too: ora drew it cyan under NO_COLOR (issue 17: NO_COLOR and TERM=dumb all plain).
      const spinner = ora ? ora({ text: 'syncing…', stream: process.stderr, color: colorOn(process.stderr) ? 'cyan' : false }).start() : null
      const said = new Set<string>()
      try {
        const r = await sync({
          cwd: cwdOf(cmd), peers: o.peer, registry: o.registry, insecure: o.insecure, timeoutSec: o.timeout, warn, note: (m: string) => err(m),
          onProgress: (p) => {
            if (spinner) spinner.text = `syncing with ${p.url}: sent ${fmtBytes(p.bytesSent)}, received ${fmtBytes(p.bytesReceived)}`
            else if (!o.json && !said.has(p.url) && said.add(p.url)) err(`syncing with ${p.url}…`)
          },
        })
        spinner?.stop()
        const verdict = syncExit(r)
        if (o.json) json({ ok: verdict.code === ExitCode.Ok, ...r })
        else out(formatSync(r))
        if (verdict.error) throw new ExitError(verdict.code, verdict.error.message)
      } finally {
        spinner?.stop()
      }
    })

  program.command('status')
    .description('tracked files (synced, pending, held, refused, conflicted), peers, conflicts, daemon')
    .option('--check', 'exit 4 when any file is held, refused or conflicted')
    .option('--json', 'print the status as JSON')
    .addHelpText('after', examples('ctxsync status', 'ctxsync status --json | jq \'.files[] | select(.state=="held")\'', 'ctxsync status --check || echo "fix context files first"'))
    .action(async (o, cmd: Command) => {
      const { status, statusOk } = await commands.status()
      const s = await status({ cwd: cwdOf(cmd) })
      if (o.json) json(s)
      else out(formatStatus(s))
      if (o.check && !statusOk(s)) throw new ExitError(ExitCode.CheckFailed, o.json ? '' : 'check failed: a file is held, refused or conflicted')
    })

  program.command('resolve')
    .description('list conflicts, or choose which value stays (the choice syncs to every peer)')
    .argument('[id]', 'conflict id from --list')
    .option('--list', 'list conflicts')
    .option('--take <choice>', 'value number (1-based), ours or theirs', parseTakeArg)
    .option('--all', 'apply --take to every conflict')
    .option('--json', 'print as JSON')
    .addHelpText('after', examples('ctxsync resolve --list', 'ctxsync resolve 3f2a9c1e --take 2', 'ctxsync resolve --all --take ours', 'ctxsync resolve            # in a terminal: pick interactively'))
    .action(async (id: string | undefined, o, cmd: Command) => {
      const { resolveFlow } = await commands.resolve()
      const io = terminal()
      try {
        await resolveFlow({ cwd: cwdOf(cmd), id, ...o, warn }, io)
      } finally {
        io.close()
      }
    })

  program.command('watch')
    .description('the daemon: sync live — watch the files, listen for peers, keep peers connected')
    .option('--port <port>', 'listen on this port (overrides .ctxsync/local.yaml; 0 picks a free one)', port)
    .option('--host <addr>', 'listen address (default 127.0.0.1; 0.0.0.0 accepts peers from other machines)')
    .option('--peer <url>', 'peer to keep connected to (repeatable; replaces the configured ones)', collect)
    .option('--registry <url>', 'sync through this relay only (registry mode for this run)')
    .option('--insecure', 'allow a ws:// registry that is not on this machine (no TLS)')
    .option('--max-frame <bytes>', 'largest WebSocket frame accepted from peers (default 8 MiB; 1009 beyond)', bytes)
    .option('--detach', 'run in the background; stop with `ctxsync stop`')
    .option('--json', 'with --detach: print {pid, url} as JSON')
    .addHelpText('after', examples('ctxsync watch', 'ctxsync watch --host 0.0.0.0 --port 7420', 'ctxsync watch --detach && ctxsync status', 'DEBUG=ctxsync:* ctxsync watch   # traces'))
    .action(async (o, cmd: Command) => {
      const cwd = cwdOf(cmd)
      const { watch, watchDetached } = await commands.watch()
      if (o.detach) {
        const info = await watchDetached({ cwd, port: o.port, host: o.host, peers: o.peer, registry: o.registry, insecure: o.insecure, maxFrameBytes: o.maxFrame, script: process.argv[1]! })
        if (o.json) json({ pid: info.pid, url: info.url, registry: info.registry, log: info.log })
        else out(`daemon running (pid ${info.pid}) ${info.registry ? `through the relay at ${info.registry}` : `on ${info.url}`}; log: ${info.log}; stop: ctxsync stop`)
        return
      }
      longRunning = true
      await watch({
        cwd, port: o.port, host: o.host, peers: o.peer, registry: o.registry, insecure: o.insecure, maxFrameBytes: o.maxFrame, say: (l) => err(`[${new Date().toTimeString().slice(0, 8)}] ${visible(l)}`),
        onStarted: (info, files) => err(`watching ${files} file(s); ${info.registry ? `syncing through the relay at ${info.registry}` : `listening on ${info.url}`} (Ctrl-C to stop)`),
      })
    })

  program.command('serve')
    .description('run a relay and registry: many spaces over WebSocket, their state kept in --data, /healthz and /metrics on the same port')
    .requiredOption('--data <dir>', 'where each space\'s state is kept (created if missing)')
    .option('--port <port>', 'listen on this port (0 picks a free one)', port, 7421)
    .option('--host <addr>', 'listen address (0.0.0.0 for other machines: then use TLS)', '127.0.0.1')
    .option('--tls-cert <file>', 'TLS certificate (PEM): serve wss:// and https://')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--max-frame <bytes>', 'largest WebSocket frame accepted (1009 beyond; peers chunk below it)', bytes)
    .option('--max-conns <n>', 'most connections at once (default: half the open-file limit, at most 8192)', count)
    .option('--max-conns-per-ip <n>', 'most connections from one address (IPv6: one /64; default 128)', count)
    .option('--max-pending <n>', 'most connections not yet authenticated (default: a quarter of --max-conns, at most 512)', count)
    .option('--max-sessions-per-space <n>', 'most sessions one space may hold (default 256)', count)
    .option('--max-spaces <n>', 'most spaces this relay registers (default 10000)', count)
    .option('--registrations-per-hour <n>', 'new spaces one address may register per hour (default 20)', count)
    .option('--expire-unused <days>', 'forget a space used only by the session that registered it after this many days (default 7)', count)
    .option('--expire-idle <days>', 'forget a space no peer visited for this many days (default 180)', count)
    .addHelpText('after', examples('ctxsync serve --data ./relay-data', 'ctxsync serve --host 0.0.0.0 --port 443 --data /var/lib/ctxsync --tls-cert cert.pem --tls-key key.pem', 'curl http://127.0.0.1:7421/metrics') +
      prose('\nThe relay never holds a space secret: a space registers with its public key on first contact; peers prove the secret or show a token (ctxsync token create).\n'))
    .action(async (o, cmd: Command) => {
      longRunning = true
      const { serve } = await commands.serve()
      await serve({
        cwd: cwdOf(cmd), host: o.host, port: o.port, data: o.data, tlsCert: o.tlsCert, tlsKey: o.tlsKey, maxFrameBytes: o.maxFrame,
        maxConns: o.maxConns, maxConnsPerIp: o.maxConnsPerIp, maxPending: o.maxPending, maxSessionsPerSpace: o.maxSessionsPerSpace,
        maxSpaces: o.maxSpaces, registrationsPerHour: o.registrationsPerHour, expireUnusedDays: o.expireUnused, expireIdleDays: o.expireIdle,
        say: (l) => err(`[${new Date().toTimeString().slice(0, 8)}] ${visible(l)}`),
        onStarted: (info) => err(`relay listening on ${info.url} (data: ${info.data}; GET /healthz, /metrics) — Ctrl-C to stop\nrelay key: ${info.key} (spaces pin it as registry-key in ctxsync.yaml at first contact; keep ${info.data}/relay-key safe)`),
      })
    })

  const token = program.command('token').description('relay tokens: credentials for CI and agents that sync with a relay without the secret')
  token.command('create')
    .description('print a token for this space (the last line of stdout); needs the space secret')
    .requiredOption('--role <role>', 'read (receives only), write (also sends) or admin (also sees peer addresses)')
    .option('--expires <duration>', 'e.g. 30m, 12h, 7d, 4w, or never', '30d')
    .option('--json', 'print {token, role, expires} as JSON')
    .addHelpText('after', examples('ctxsync token create --role read --expires 7d', 'CTXSYNC_TOKEN=$(ctxsync token create --role write | tail -1) ctxsync sync --registry wss://relay.example.com') +
      prose('\nA token is a bearer credential: whoever holds it has its role until it expires (there is no revoking it early).\n'))
    .action(async (o, cmd: Command) => {
      const { createToken } = await commands.token()
      const r = await createToken({ cwd: cwdOf(cmd), role: o.role, expires: o.expires })
      if (o.json) json({ token: r.token, role: r.role, expires: r.expires })
      else {
        err(`${r.role} token for space ${r.space}, ${r.expires ? `expires ${r.expires}` : 'never expires'} (set it as CTXSYNC_TOKEN)`)
        out(r.token)
      }
    })

  registerPeers(program)

  program.command('demo')
    .description('see it work: two peers (a person and an AI agent) in a temp directory on 127.0.0.1, scripted edits, converging files')
    .option('--keep', 'keep the temp directory to look at the files')
    .option('--json', 'print the steps as JSON')
    .action(async (o) => {
      const { demo } = await commands.demo()
      const r = await demo({ keep: o.keep, say: o.json ? () => {} : out })
      if (o.json) json(r)
      if (!r.converged || r.steps.some((s) => !s.ok)) throw new ExitError(ExitCode.Error, 'the demo did not converge: please report this')
    })

  program.command('stop')
    .description('stop the daemon of this space (it saves its state first)')
    .option('--json', 'print {stopped, pid} as JSON')
    .action(async (o, cmd: Command) => {
      const { stop } = await commands.stop()
      const r = await stop({ cwd: cwdOf(cmd) })
      if (o.json) json(r)
      else out(r.stopped ? `stopped the daemon (pid ${r.pid})` : 'no daemon is running for this space')
    })
  addGitCommands(program)
  return program
}

/** hooks, hook, merge-driver, log: ctxsync in git (sync points, hooks, the merge driver). */
function addGitCommands(program: Command): void {
  const hooks = program.command('hooks')
    .description('git hooks, merge driver and sync-point notes for this clone (needs `ctxsync init`)')
  hooks.command('install')
    .description('install the hooks (existing ones are kept and run first), the merge driver (in .git/info/attributes: nothing to commit), autostash for pull, merge and rebase, and the notes refspec')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('ctxsync hooks install', 'ctxsync hooks install --json'))
    .action(async (o, cmd: Command) => {
      const [{ hooksInstall }, fmt] = await Promise.all([commands.hooks(), import('./output-git.js')])
      const r = await hooksInstall({ cwd: cwdOf(cmd) })
      if (o.json) json(r)
      else out(fmt.formatHooksInstall(r))
    })
  hooks.command('uninstall')
    .description('remove the hooks (restoring the previous ones byte for byte), the merge driver and the notes refspec')
    .option('--json', 'print the result as JSON')
    .action(async (o, cmd: Command) => {
      const [{ hooksUninstall }, fmt] = await Promise.all([commands.hooks(), import('./output-git.js')])
      const r = await hooksUninstall({ cwd: cwdOf(cmd) })
      if (o.json) json(r)
      else out(fmt.formatHooksUninstall(r))
    })

  // Run by the installed hooks. Whatever happens, git must go on: warnings only, exit 0, and a deadline.
  program.command('hook', { hidden: true })
    .argument('<name>', 'the git hook')
    .argument('[args...]', "git's arguments to the hook")
    .allowUnknownOption()
    .action(async (name: string, args: string[], _o, cmd: Command) => {
      const hookWarn = (m: string) => err(`ctxsync: warning: ${visibleLines(m)}`)
      try {
        const { DEFAULT_HOOK_TIMEOUT_S, runHook } = await commands.hook()
        const secs = Number(process.env.CTXSYNC_HOOK_TIMEOUT) || DEFAULT_HOOK_TIMEOUT_S
        await runHook({ cwd: cwdOf(cmd), name, args, warn: hookWarn, timeoutMs: secs * 1000 })
      } catch (e) {
        hookWarn(`${name}: ${(e as Error).message.split('\n')[0]}`)
      }
    })

  program.command('merge-driver')
    .description('the git merge driver for context files (`ctxsync hooks install` sets it up): merges into OURS, never leaving conflict markers')
    .argument('<base>', '%O: the common ancestor\'s version')
    .argument('<ours>', '%A: our version; receives the result')
    .argument('<theirs>', '%B: their version')
    .argument('[path]', '%P: where the result goes in the repository')
    .action(async (base: string, ours: string, theirs: string, p: string | undefined, _o, cmd: Command) => {
      const { mergeDriver } = await commands.mergeDriver()
      const r = await mergeDriver({ cwd: cwdOf(cmd), base, ours, theirs, path: p ?? ours, say: err })
      if (r.code !== 0) throw new ExitError(r.code as ExitCode)
    })

  program.command('log')
    .description('sync points of the commits on this branch: commit, time, who, context files changed')
    .argument('[path]', 'only sync points whose commit changed this file')
    .option('-n, --max-count <n>', 'show at most this many entries', count)
    .option('--json', 'print the entries as JSON')
    .addHelpText('after', examples('ctxsync log', 'ctxsync log .rhema/todos.yaml --json'))
    .action(async (p: string | undefined, o, cmd: Command) => {
      const [{ log }, fmt] = await Promise.all([commands.log(), import('./output-git.js')])
      const r = await log({ cwd: cwdOf(cmd), path: p, max: o.maxCount })
      if (o.json) json(r)
      else out(fmt.formatLog(r.entries))
    })
  registerHistory(program)
}

/** A daemon or relay runs here: a closed output never ends it (see main). */
let longRunning = false

export async function main(argv: string[] = process.argv): Promise<number> {
  // A reader that stops early (`ctxsync blame F | head -1`) is no error: end quietly, as git does
  // (it was an unhandled 'error' event with a stack trace: black-box tester).
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e
    if (!longRunning) process.exit(0)
  })
  // A daemon or relay whose log reader went away (`watch 2>&1 | tee log`, then Ctrl-C: tee ends first) goes
  // through its own clean stop; its lines are dropped. It died on the unhandled EPIPE of its 'stopping' line,
  // and its peers saw an abnormal close, 1006 (black-box tester, stop 25).
  process.stderr.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e
  })
  const program = buildProgram()
  // Bare `ctxsync`, as bare `git`: the help on stderr, exit 1 (it exited 0: issue 17).
  if (argv.length <= 2) return (program.outputHelp({ error: true }), ExitCode.Error)
  try {
    await program.parseAsync(argv)
    return ExitCode.Ok
  } catch (e) {
    return reportError(e, argv.includes('--json'))
  }
}

/** The one place where errors become what the user reads and an exit code. */
export function reportError(e: unknown, wantsJson: boolean): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.Ok
    return ExitCode.Usage
  }
  if (e instanceof ExitError) {
    if (e.message) err(`ctxsync: ${visibleLines(e.message)}`)
    return e.exitCode
  }
  if (e instanceof CtxError) {
    // Messages may quote what a peer sent (a reason, a name): never raw to the terminal.
    err(`ctxsync: ${visibleLines(e.message)}`)
    if (wantsJson) json({ error: { code: e.code, message: e.message, exitCode: e.exitCode }, ...(e.data && typeof e.data === 'object' ? { data: e.data } : {}) })
    return e.exitCode
  }
  err(`ctxsync: unexpected error: ${(e as Error).stack ?? String(e)}`)
  err('this is a bug; please report it with the output of `DEBUG=ctxsync:* ctxsync …`')
  return ExitCode.Error
}

/**
 * The command line: commander lives here and only here. Each action parses its flags into the typed
 * options of a command function (`src/commands/`), prints the returned data (`--json` prints it as is),
 * and one catch at the bottom turns typed errors into exit codes:
 *   0 ok · 1 error (the message says what to do) · 2 usage · 3 no peer reachable · 4 a --check failed ·
 *   5 access refused.
 */
import { createRequire } from 'node:module'
import readline from 'node:readline/promises'
import { Command, CommanderError, Option } from 'commander'
import type { Conflict, ResolveChoice, Take } from './commands/resolve.js'
import { CtxError, ExitCode, ExitError, UsageError } from './errors.js'
import { formatConflicts, formatInit, formatStatus, formatSync, fmtBytes } from './output.js'

// Command modules are loaded when their command runs: `status` in a hook should not pay for the network
// stack, nor `--version` for anything.
const commands = {
  demo: () => import('./commands/demo.js'),
  init: () => import('./commands/init.js'),
  invite: () => import('./commands/invite.js'),
  resolve: () => import('./commands/resolve.js'),
  status: () => import('./commands/status.js'),
  stop: () => import('./commands/stop.js'),
  sync: () => import('./commands/sync.js'),
  watch: () => import('./commands/watch.js'),
}

const pkg = createRequire(import.meta.url)('../package.json') as { version: string }

const collect = (v: string, prev: string[] = []) => [...prev, v]
const port = (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port ${v}: expected 0–65535`)
  return n
}
const seconds = (v: string) => {
  const n = Number(v)
  if (!(n > 0)) throw new UsageError(`--timeout ${v}: expected a positive number of seconds`)
  return n
}

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n')
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : s + '\n')
const json = (v: unknown) => out(JSON.stringify(v, null, 2))
const warn = (m: string) => err(`warning: ${m}`)

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`
}

function cwdOf(cmd: Command): string {
  return (cmd.optsWithGlobals() as { cwd?: string }).cwd ?? process.cwd()
}

export function buildProgram(): Command {
  const program = new Command('ctxsync')
    .description('Keep a repository\'s YAML context files (Rhema .rhema/*.yaml) in sync, live, between machines and AI agents.')
    .version(pkg.version, '-v, --version')
    .option('-C, --cwd <dir>', 'run as if started in <dir>')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText('after', examples(
      'npx ctxsync init                      # set up this clone (creates the space on first use)',
      'npx ctxsync watch                     # sync live until Ctrl-C',
      'npx ctxsync sync --peer ws://10.0.0.5:7420   # one-shot, for scripts and CI',
      'npx ctxsync status --check            # exit 4 when a file is held or conflicted',
    ) + '\nExit codes: 0 ok, 1 error, 2 usage, 3 no peer reachable, 4 a --check failed, 5 access refused.\n')

  program.command('init')
    .description('set up this clone: create or join the space, create this machine\'s identity, enroll the tracked files')
    .option('--name <name>', 'how this peer is shown to others (default: git user.name)')
    .option('--agent', 'this peer is an AI agent')
    .option('--port <port>', 'port `ctxsync watch` listens on (default 7420)', port)
    .option('--peer <url>', 'a peer to keep connected to (repeatable)', collect)
    .addOption(new Option('--discovery <mode>', 'how peers find each other').choices(['none', 'mdns', 'registry']))
    .option('--registry <url>', 'registry/relay URL (with --discovery registry)')
    .option('--join <code>', 'join an existing space with a code from `ctxsync invite`')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('ctxsync init --name "Ada" ', 'ctxsync init --join ctxsync1-eyJ2Ijox…', 'ctxsync init --agent --name claude --peer ws://127.0.0.1:7420'))
    .action(async (o, cmd: Command) => {
      const { init } = await commands.init()
      const r = await init({ cwd: cwdOf(cmd), name: o.name, agent: o.agent, port: o.port, peers: o.peer, discovery: o.discovery, registry: o.registry, join: o.join, warn })
      if (o.json) json(r)
      else out(formatInit(r))
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
        err(`join code for space ${r.space} (on the other machine: ctxsync init --join CODE)`)
        out(r.code)
      }
    })

  program.command('sync')
    .description('one-shot: take in local changes, exchange with peers until both sides hold everything, write files')
    .option('--peer <url>', 'peer to sync with (repeatable; replaces the configured peers)', collect)
    .option('--timeout <sec>', 'give up after this many seconds', seconds, 30)
    .option('--json', 'print a JSON summary')
    .addHelpText('after', examples('ctxsync sync', 'ctxsync sync --peer ws://10.0.0.5:7420 --timeout 10 --json') +
      '\nExit codes: 0 at least one peer synced, 3 no peer reachable (local changes stay pending), 5 every reachable peer refused access.\n')
    .action(async (o, cmd: Command) => {
      const [{ sync }, { syncExit }] = await Promise.all([commands.sync(), import('./space/session.js')])
      const ora = !o.json && process.stderr.isTTY ? (await import('ora')).default : null
      const spinner = ora ? ora({ text: 'syncing…', stream: process.stderr }).start() : null
      try {
        const r = await sync({
          cwd: cwdOf(cmd), peers: o.peer, timeoutSec: o.timeout, warn,
          onProgress: (p) => spinner && (spinner.text = `syncing with ${p.url}: sent ${fmtBytes(p.bytesSent)}, received ${fmtBytes(p.bytesReceived)}`),
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
    .action(async (id: string | undefined, o, cmd: Command) => resolveAction(cwdOf(cmd), id, o))

  program.command('watch')
    .description('the daemon: sync live — watch the files, listen for peers, keep peers connected')
    .option('--port <port>', 'listen on this port (overrides .ctxsync/local.yaml; 0 picks a free one)', port)
    .option('--host <addr>', 'listen address (default 127.0.0.1; 0.0.0.0 accepts peers from other machines)')
    .option('--peer <url>', 'peer to keep connected to (repeatable; replaces the configured ones)', collect)
    .option('--detach', 'run in the background; stop with `ctxsync stop`')
    .option('--json', 'with --detach: print {pid, url} as JSON')
    .addHelpText('after', examples('ctxsync watch', 'ctxsync watch --host 0.0.0.0 --port 7420', 'ctxsync watch --detach && ctxsync status', 'DEBUG=ctxsync:* ctxsync watch   # traces'))
    .action(async (o, cmd: Command) => {
      const cwd = cwdOf(cmd)
      const { watch, watchDetached } = await commands.watch()
      if (o.detach) {
        const argv = [process.argv[1]!, 'watch', '-C', cwd, ...(o.port !== undefined ? ['--port', String(o.port)] : []), ...(o.host ? ['--host', o.host] : []), ...(o.peer ?? []).flatMap((p: string) => ['--peer', p])]
        const info = await watchDetached({ cwd, port: o.port, host: o.host, peers: o.peer, argv })
        if (o.json) json({ pid: info.pid, url: info.url, log: info.log })
        else out(`daemon running (pid ${info.pid}) on ${info.url}; log: ${info.log}; stop: ctxsync stop`)
        return
      }
      await watch({
        cwd, port: o.port, host: o.host, peers: o.peer, say: (l) => err(`[${new Date().toISOString().slice(11, 19)}] ${l}`),
        onStarted: (info, files) => err(`watching ${files} file(s); listening on ${info.url} (Ctrl-C to stop)`),
      })
    })

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
  return program
}

async function resolveAction(cwd: string, id: string | undefined, o: { list?: boolean; take?: ResolveChoice['take']; all?: boolean; json?: boolean }): Promise<void> {
  if (o.all && id) throw new UsageError('give either a conflict id or --all, not both')
  if ((o.all || id) && o.take === undefined && !(process.stdin.isTTY && id)) throw new UsageError('say which value stays: --take N|ours|theirs')
  const { choicesForAll, listConflicts, noConflict, resolve } = await commands.resolve()
  const { conflicts } = await listConflicts({ cwd, warn })
  if (o.list || (!id && !o.all && !process.stdin.isTTY)) {
    if (o.json) json({ conflicts })
    else out(formatConflicts(conflicts))
    return
  }
  let choices: ResolveChoice[]
  const me = await myPeerId(cwd)
  if (o.all) {
    const r = choicesForAll(conflicts, o.take!, me)
    for (const s of r.skipped) err(`skipped ${s.id}: ${s.why}`)
    choices = r.choices
  } else if (id) {
    if (!conflicts.some((c) => c.id === id)) throw noConflict(id)
    choices = o.take !== undefined ? [{ id, take: o.take }] : await pick(conflicts.filter((c) => c.id === id))
  } else choices = await pick(conflicts)
  const r = await resolve({ cwd, choices, warn })
  if (o.json) json(r)
  else for (const c of r.resolved) out(`resolved ${c.id} (${c.file} ${c.display})`)
}

async function myPeerId(cwd: string): Promise<string> {
  const { status } = await commands.status()
  return (await status({ cwd })).peer.id
}

/** Same rules as `parseTake` in commands/resolve.ts, kept here so that parsing flags loads no command. */
function parseTakeArg(s: string): Take {
  if (s === 'ours' || s === 'theirs') return s
  if (/^[1-9]\d*$/.test(s)) return Number(s)
  throw new UsageError(`--take must be a value number (1, 2, …), ours or theirs; got ${JSON.stringify(s)}`)
}

/** The interactive picker: one question per conflict. */
async function pick(conflicts: Conflict[]): Promise<ResolveChoice[]> {
  if (conflicts.length === 0) {
    out('no conflicts')
    return []
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr })
  const choices: ResolveChoice[] = []
  try {
    for (const c of conflicts) {
      err(formatConflicts([c]).split('\n\n')[0]!)
      for (;;) {
        const a = (await rl.question(`keep which value of ${c.id}? [1-${c.values.length}, Enter = skip, q = quit] `)).trim()
        if (a === '') break
        if (a === 'q') return choices
        const n = Number(a)
        if (Number.isInteger(n) && n >= 1 && n <= c.values.length) {
          choices.push({ id: c.id, take: n })
          break
        }
      }
    }
  } finally {
    rl.close()
  }
  return choices
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram()
  const wantsJson = argv.includes('--json')
  try {
    await program.parseAsync(argv)
    return ExitCode.Ok
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.Ok
      return ExitCode.Usage
    }
    if (e instanceof ExitError) {
      if (e.message) err(`ctxsync: ${e.message}`)
      return e.exitCode
    }
    if (e instanceof CtxError) {
      err(`ctxsync: ${e.message}`)
      if (wantsJson) json({ error: { code: e.code, message: e.message, exitCode: e.exitCode }, ...(e.data && typeof e.data === 'object' ? { data: e.data } : {}) })
      return e.exitCode
    }
    err(`ctxsync: unexpected error: ${(e as Error).stack ?? String(e)}`)
    err('this is a bug; please report it with the output of `DEBUG=ctxsync:* ctxsync …`')
    return ExitCode.Error
  }
}

/**
 * The `peers` command's part of the CLI: listing who this machine has met (and who is online) and
 * `--prune`, forgetting the peers not seen for some days. Registered on the program by `cli.ts` (kept
 * apart: cli.ts is at its size limit).
 */
import type { Command } from 'commander'
import { examples, prose } from './clihelp.js'
import { json, out } from './cliio.js'
import { ExitError, UsageError } from './errors.js'
import { formatPeers, formatPruned } from './output.js'

const peersCommand = () => import('./commands/peers.js')
const cwdOf = (cmd: Command): string => (cmd.optsWithGlobals() as { cwd?: string }).cwd ?? process.cwd()

/** `--prune` alone is true (the default age); with a value, a number of days, 0 or more. */
const days = (v: string) => {
  const n = Number(v)
  if (v.trim() === '' || !(n >= 0) || !Number.isFinite(n)) throw new UsageError(`--prune takes a number of days, e.g. --prune 7; got ${JSON.stringify(v)}`)
  return n
}

export function registerPeers(program: Command): void {
  program.command('peers')
    .description('peers this machine has met and, in registry mode, who is online now according to the relay')
    .option('--registry <url>', 'ask this relay (registry mode for this run)')
    .option('--insecure', 'allow a ws:// registry that is not on this machine (no TLS)')
    .option('--prune [days]', 'forget the peers not seen for this many days (default 30; never one connected now)', days)
    .option('--json', 'print as JSON')
    .addHelpText('after', examples(
      'ctxsync peers',
      'ctxsync peers --registry wss://relay.example.com --json',
      'ctxsync peers --prune      # forget peers not seen for 30 days',
      'ctxsync peers --prune 7    # ... or for a week',
    ) + prose('\nThe list also forgets a peer by itself after 30 days unseen. Forgetting revokes nothing: a peer that holds the secret or a token still syncs, and is simply met again.\n'))
    .action(async (o, cmd: Command) => {
      const { peers, peersExit, prunePeers } = await peersCommand()
      if (o.prune !== undefined) {
        if (o.registry) throw new UsageError('--prune forgets peers of this machine\'s own list: run it without --registry')
        const r = await prunePeers({ cwd: cwdOf(cmd), days: o.prune === true ? undefined : o.prune })
        return void (o.json ? json(r) : out(formatPruned(r)))
      }
      const r = await peers({ cwd: cwdOf(cmd), registry: o.registry, insecure: o.insecure })
      if (o.json) json(r)
      else out(formatPeers(r))
      const verdict = peersExit(r)
      if (verdict) throw new ExitError(verdict.code, o.json ? '' : verdict.message)
    })
}

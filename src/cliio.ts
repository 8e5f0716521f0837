/**
 * The command line's own input and output: lines to stdout and stderr, JSON, warnings, and the terminal's
 * side of an interactive `resolve`. Kept apart from cli.ts (commander and the commands) so it stays small.
 */
import readline from 'node:readline/promises'
import type { ResolveIO, Take } from './commands/resolve.js'
import { UsageError } from './errors.js'
import { formatConflicts } from './output.js'
import { visible, visibleLines } from './visible.js'

export const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n')
export const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : s + '\n')
export const json = (v: unknown) => out(JSON.stringify(v, null, 2))
export const warn = (m: string) => err(`warning: ${visibleLines(m)}`)

/** Same rules as `parseTake` in commands/resolve.ts, kept here so that parsing flags loads no command. */
export function parseTakeArg(s: string): Take {
  if (s === 'ours' || s === 'theirs') return s
  if (/^[1-9]\d*$/.test(s)) return Number(s)
  throw new UsageError(`--take must be a value number (1, 2, …), ours or theirs; got ${JSON.stringify(s)}`)
}

/** The terminal's side of `resolve`: one line of answer per question, asked on stderr. */
export function terminal(): ResolveIO & { close(): void } {
  let rl: readline.Interface | null = null
  return {
    interactive: process.stdin.isTTY === true,
    ask: (q) => (rl ??= readline.createInterface({ input: process.stdin, output: process.stderr })).question(q),
    out, err, json, format: { conflicts: formatConflicts, text: visible },
    close: () => rl?.close(),
  }
}


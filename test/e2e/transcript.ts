/**
 * A readable record of a CLI session for a snapshot (first-day.test.ts): each command as typed, in which
 * clone, its stdout, its stderr (marked), its exit code, and the daemons' logs as they grew — with
 * everything that changes from run to run replaced by a placeholder: temp paths, ports, ids, join codes,
 * hashes, pids, times, byte counts, the host name.
 *
 * Why a placeholder per kind (and per peer for ids and ports) rather than one `<x>`: a reviewer reading the
 * snapshot should still see that bob's log names ann's id, or that `invite` printed the code `init` took.
 */
import os from 'node:os'
import type { RunResult } from './helpers.js'

export class Transcript {
  private readonly lines: string[] = []
  /** Exact strings known to vary, each with its placeholder (longest first when applied). */
  private readonly known = new Map<string, string>()

  /** Names a value that varies (a peer's id, a port, a temp directory) with its placeholder. */
  name(value: string | number, placeholder: string): void {
    if (String(value)) this.known.set(String(value), placeholder)
  }

  /** A comment line: what the person does between commands. */
  note(text: string): void {
    this.lines.push('', `# ${text}`)
  }

  /** A command as typed in `where`, and what it printed. */
  command(where: string, typed: string, r: RunResult): void {
    this.lines.push(`${where}$ ${typed}`)
    for (const l of lines(r.stdout)) this.lines.push(l)
    for (const l of lines(r.stderr)) this.lines.push(`stderr| ${l}`)
    this.lines.push(`[exit ${r.exitCode}]`)
  }

  /** What a daemon logged since the last call for it (`seen` tracks how much was shown). */
  daemonLog(who: string, log: string, seen: { upTo: number }): void {
    const fresh = log.slice(seen.upTo)
    seen.upTo = log.length
    const ls = lines(fresh)
    if (!ls.length) return
    this.lines.push(`  (${who}'s daemon log)`)
    for (const l of ls) this.lines.push(`  | ${l}`)
  }

  text(): string {
    return this.normalise(this.lines.join('\n').trimStart()) + '\n'
  }

  normalise(s: string): string {
    for (const [value, placeholder] of [...this.known].sort((a, b) => b[0].length - a[0].length)) s = s.split(value).join(placeholder)
    return s
      .replace(/ctxsync1-[A-Za-z0-9_-]+/g, '<join-code>')
      .replace(/\bs-[a-z0-9]{16}\b/g, '<space-id>')
      .replace(/\bp-[a-z0-9]{16}\b/g, '<peer-id>')
      .replace(/\b[0-9a-f]{40}\b/g, '<commit>')
      .replace(/\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{7,12}\b/g, '<hash>')
      .replace(/\bpid \d+/g, 'pid <pid>')
      .replace(/^(\s*\| )?\[\d\d:\d\d:\d\d\]/gm, '$1[<time>]')
      .replace(/\b\d+(s|m|h|d) ago\b/g, '<ago>')
      .replace(/\b\d{4}-\d\d-\d\d \d\d:\d\d\b/g, '<local time>')
      .replace(/\b\d{4}-\d\d-\d\dT[\d:.]+Z\b/g, '<iso time>')
      .replace(/\b\d+(\.\d)? (B|KiB|MiB)\b/g, '<n> $2')
      .split(` on ${os.hostname()}`).join(' on <host>')
  }
}

function lines(s: string): string[] {
  const t = s.replace(/\r/g, '').replace(/\n+$/, '')
  return t ? t.split('\n') : []
}

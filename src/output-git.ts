/**
 * Human-readable printing for the git commands (`log`, `hooks`, `merge-driver`) and the git part of
 * `status`. Kept apart from `output.ts` only to keep files small; same conventions (data in, text out).
 */
import type { HooksInstallResult, HooksUninstallResult } from './commands/hooks.js'
import type { LogEntry } from './commands/log.js'
import { colorOn, when } from './timefmt.js'
import type { GitStatus } from './space/gitstatus.js'

const useColor = colorOn()
const paint = (code: number) => (s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s)
const bold = paint(1)
const dim = paint(2)
const green = paint(32)
const yellow = paint(33)

export function formatGitStatus(g: GitStatus): string[] {
  const out: string[] = ['']
  const where = `${g.branch ?? 'detached'}${g.head ? ` @ ${g.head.slice(0, 7)}` : ''}`
  let point: string
  if (!g.head) point = dim('no commits yet')
  else if (!g.syncPoint) point = dim('HEAD has no sync point (commit with hooks installed, or `ctxsync sync`)')
  else if (g.matches) point = green(`matches HEAD's sync point`) + dim(` (${g.syncPoint.via} by ${g.syncPoint.by}, ${g.syncPoint.at})`)
  else point = yellow(`differs from HEAD's sync point in ${g.differs.join(', ')}`) + dim(' (the live context moved on, or the branch is behind it)')
  out.push(`${bold('git')} ${where}   ${point}`)
  const hooks = g.hooks.length ? `hooks: ${g.hooks.join(', ')}` : 'hooks: none (`ctxsync hooks install`)'
  const driver = g.driver === 'configured' ? 'merge driver: on' : g.driver === 'missing' ? yellow('merge driver: MISSING') : 'merge driver: not used'
  out.push(dim(`  ${hooks}; ${driver}; branches: ${g.branches}`))
  for (const w of g.warnings) out.push(yellow(`warning: ${w}`))
  return out
}

export function formatLog(entries: LogEntry[]): string {
  if (entries.length === 0) return 'no sync points (they are recorded on commit once `ctxsync hooks install` ran, and by `ctxsync sync`)'
  return entries
    .map((e) => {
      // What this clone's daemon saw git do (a reset makes no commit): the command, then each file's fate.
      if (e.via === 'daemon') return `${bold(e.commit.slice(0, 7) || '-------')}  ${when(e.time)}  ${e.author} ${dim('(git, seen by the daemon)')}  ${e.subject}\n${(e.git ?? []).map((g) => `  ${g.path}: ${g.what}`).join('\n')}`
      // A merge made here: each file with what the daemon made of it, when it saw git write the file.
      const what = (f: string) => e.git?.find((g) => g.path === f)?.what
      const files = e.changed.length ? e.changed.map((f) => (what(f) ? `${f}: ${what(f)}` : f)).join(e.git ? '\n  ' : ', ') : dim('no context file changed')
      // "ann (commit)" left a reader guessing: it says how the sync point was recorded.
      const how = e.via === 'sync' ? 'recorded by ctxsync sync' : `recorded at ${e.via}`
      return `${bold(e.commit.slice(0, 7))}  ${when(e.time)}  ${e.author} ${dim(`(${how})`)}  ${e.subject}\n  ${files}`
    })
    .join('\n')
}

export function formatHooksInstall(r: HooksInstallResult): string {
  const out: string[] = []
  out.push(r.hooks.installed.length ? `installed hooks in ${r.hooksDir}: ${r.hooks.installed.join(', ')}` : `hooks in ${r.hooksDir} are up to date`)
  if (r.hooks.chained.length) out.push(`kept the existing ${r.hooks.chained.join(', ')} (renamed *.pre-ctxsync, run first)`)
  for (const s of r.hooks.skipped) out.push(yellow(`skipped ${s.hook}: ${s.why}`))
  if (r.attributes) out.push(`updated ${r.attributesFile} (this clone's own, nothing to commit): context files merge with \`ctxsync merge-driver\``)
  if (r.config.length) out.push(`git config: ${r.config.join(', ')}`)
  out.push(dim(`runs: ${r.runner}`))
  for (const n of r.next) out.push(dim(`next: ${n}`))
  return out.join('\n')
}

export function formatHooksUninstall(r: HooksUninstallResult): string {
  const out: string[] = []
  out.push(r.hooks.removed.length ? `removed hooks: ${r.hooks.removed.join(', ')}` : 'no ctxsync hooks were installed')
  if (r.hooks.restored.length) out.push(`restored the previous ${r.hooks.restored.join(', ')}`)
  for (const s of r.hooks.skipped) out.push(yellow(`left ${s.hook}: ${s.why}`))
  if (r.attributes) out.push('removed the ctxsync merge attributes this clone had')
  if (r.config.length) out.push(`git config: removed ${r.config.join(', ')}`)
  for (const n of r.next) out.push(dim(`next: ${n}`))
  return out.join('\n')
}

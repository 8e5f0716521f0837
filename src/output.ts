/**
 * Human-readable printing of command results (stdout) — kept apart from the commands, which return data,
 * and from `--json`, which prints that data as is.
 *
 * Names, hosts, URLs and paths in this data come from peers: every printer first runs its data through
 * `visibleDeep` (src/visible.ts), so no control character or bidi override reaches the terminal raw.
 */
import type { Conflict } from './crdt/present.js'
import type { InitResult } from './commands/init.js'
import type { PeersResult, PruneResult } from './commands/peers.js'
import type { StatusData } from './space/statusdata.js'
import type { OnlinePeer } from './space/summary.js'
import type { SyncReport } from './space/oneshot.js'
import { formatGitStatus } from './output-git.js'
import { visible, visibleDeep } from './visible.js'
import { ago, colorOn, when } from './timefmt.js'
import { massDeletionWhat } from './space/versions/guardtext.js'

export { ago, when }

const useColor = colorOn()
const paint = (code: number) => (s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s)
const bold = paint(1)
const dim = paint(2)
const red = paint(31)
const green = paint(32)
const yellow = paint(33)

const STATE_COLOR: Record<string, (s: string) => string> = {
  synced: green, pending: yellow, held: red, refused: red, conflicted: red, failing: red,
}

/** A clone where `init` never ran: what that means and the ways in (README: Using it, CTXSYNC_SECRET/TOKEN). */
const NOT_JOINED = 'this machine has not joined this space: ctxsync.yaml is here, but `ctxsync init` never ran in this clone. ' +
  'Ask a member for a join code (`ctxsync invite`) and run `ctxsync init --join CODE`; CI and scripts can run ' +
  '`ctxsync sync` without init, given CTXSYNC_SECRET (or CTXSYNC_TOKEN with a relay)'

export function formatStatus(s: StatusData): string {
  s = visibleDeep(s)
  const lines: string[] = []
  const d = s.daemon.running ? `running${s.daemon.pid ? ` (pid ${s.daemon.pid}${s.daemon.url ? `, ${s.daemon.url}` : ''})` : ''}` : 'not running'
  const you = s.notJoined ? 'not joined yet' : `${s.peer.name} (${s.peer.kind})`
  lines.push(`${bold('space')} ${s.space}   ${bold('you')} ${you}   ${bold('daemon')} ${d}`)
  if (s.notJoined) lines.push(yellow(NOT_JOINED))
  lines.push('')
  if (s.files.length === 0) lines.push(dim('no tracked files (ctxsync.yaml `track:` lists the globs)'))
  const w = Math.max(...s.files.map((f) => f.state.length), 6)
  const takeIn = s.daemon.running ? 'the daemon takes it in once it answers' : '`ctxsync watch` or `ctxsync sync` takes it in'
  for (const f of s.files) {
    const color = STATE_COLOR[f.state] ?? ((x: string) => x)
    let detail = ''
    if (f.error) detail = f.state === 'held' ? `:${f.error.line}:${f.error.col}  ${f.error.message}` : `  ${f.error.message}`
    else if (f.conflicts) detail = `  (${f.conflicts} conflict${f.conflicts > 1 ? 's' : ''})`
    // With no daemon a `pending` file may hold an edit nothing has seen yet: said, with what takes it in.
    const unseen = f.notTakenIn && `${f.notTakenIn} here since the daemon last took it in: not synced yet${f.state === 'pending' ? ` (${takeIn})` : ''}`
    if (unseen && !detail) detail = `  ${unseen}`
    lines.push(`  ${color(f.state.padEnd(w))}  ${f.path}${detail}`)
    if (unseen && detail !== `  ${unseen}`) lines.push(dim(`  ${' '.repeat(w)}  ${unseen}`))
    if (f.formatKept) lines.push(dim(`  ${' '.repeat(w)}  ${f.formatKept.message} (${when(f.formatKept.at)})`))
    if (f.lastSave) lines.push(yellow(`  ${' '.repeat(w)}  last save (${when(f.lastSave.at)}): ${f.lastSave.message}`))
  }
  lines.push('')
  if (s.peers.length === 0) lines.push(dim('no peers met yet'))
  for (const p of s.peers) {
    const state = p.connected ? green('connected') : dim(`last seen ${when(p.lastSeen)}`)
    lines.push(`  ${p.name}${p.kind === 'agent' ? ' (agent)' : ''}  ${state}${p.url ? dim(`  ${p.url}`) : ''}`)
  }
  if (s.online?.length) lines.push('', bold('online now'), ...formatOnline(s.online))
  // A fresh member's files are "pending" with no edit here: said why, and what ends it (issue 17).
  if (s.joining) lines.push('', yellow(`joining: no exchange with a peer yet, so the files wait for the space's state; what was edited here is kept and merged into it. ${s.daemon.running ? 'The daemon takes it in when a peer connects.' : 'Run `ctxsync watch`, or `ctxsync sync`, with a peer reachable.'}`))
  if (s.conflicts > 0) lines.push('', yellow(`${s.conflicts} conflict${s.conflicts > 1 ? 's' : ''}: see \`ctxsync resolve --list\``))
  const held = s.files.filter((f) => f.state === 'held').length
  if (held) lines.push(red(`${held} file${held > 1 ? 's' : ''} held: fix what is shown for it; changes wait until it parses`))
  for (const m of s.massDeletions ?? []) {
    const what = massDeletionWhat(m)
    // Within the last hour by definition (status lists them for one), and dated by the history clock: relative.
    lines.push(yellow(`${m.doc}: ${m.by ? `a change by ${visible(m.by.join(', '))}` : 'a save'} ${ago(new Date(m.t).toISOString())} ${what}; \`ctxsync undo ${m.id}\` brings them back`))
  }
  if (s.git) lines.push(...formatGitStatus(s.git))
  return lines.join('\n')
}

/** Who is online and what they touch: one line per peer. */
export function formatOnline(online: OnlinePeer[]): string[] {
  online = visibleDeep(online)
  return online.map((p) => {
    const who = `${p.name}${p.kind === 'agent' ? ' (agent)' : ''}${p.host ? dim(` on ${p.host}`) : ''}${p.via === 'relay' ? dim(' via relay') : p.via === 'peer' ? dim(' via another peer') : ''}`
    const files = p.files.slice(0, 5).map((f) => `${f.path} ${dim(ago(f.at))}`)
    const more = p.files.length > 5 ? dim(` +${p.files.length - 5} more`) : ''
    return `  ${green('●')} ${who}  ${files.length ? `editing ${files.join(', ')}${more}` : dim('idle')}`
  })
}

export function formatConflicts(conflicts: Conflict[]): string {
  if (conflicts.length === 0) return 'no conflicts'
  const out: string[] = []
  for (const c of conflicts) {
    out.push(`${bold(c.id)}  ${visible(c.file)}  ${visible(c.display)}${c.kind === 'delete' ? dim('  (deleted on one side, edited on the other)') : ''}`)
    c.values.forEach((v, i) => {
      const mark = i + 1 === c.winner ? green('*') : ' '
      const shown = v.deleted ? dim('(deleted)') : visible(oneLine(v.raw))
      const who = `${visible(v.author.name)}${v.author.kind === 'agent' ? ' (agent)' : ''}`
      out.push(`  ${mark} ${i + 1}. ${shown}  ${dim(`— ${who}${v.at ? `, ${when(v.at)}` : ''}`)}`)
    })
  }
  out.push('', dim('* = in the file now. Keep another: `ctxsync resolve ID --take N`'))
  return out.join('\n')
}

function oneLine(s: string): string {
  const t = s.replace(/\n\s*/g, ' ⏎ ')
  return t.length > 100 ? t.slice(0, 97) + '…' : t
}

export function formatInit(r: InitResult): string {
  r = visibleDeep(r)
  const out: string[] = []
  // Missing the secret, the space was not created here (a ctxsync.yaml written from a later commit is not).
  const what = r.joined ? 'joined' : r.secret === 'missing' ? 'not yet a member of' : r.created.includes('ctxsync.yaml') ? 'created' : 'already a member of'
  out.push(`${what} space ${bold(r.space)} in ${r.root}${r.secret === 'missing' ? ': this machine has no secret for it (see next)' : ''}`)
  out.push(`this machine: ${r.peer.name} (${r.peer.kind}, ${r.peer.id})`)
  if (r.created.length) out.push(`created: ${r.created.join(', ')}`)
  if (r.changed.length) out.push(`updated: ${r.changed.join(', ')}`)
  if (!r.created.length && !r.changed.length && !r.enrolled.length) out.push('already set up: nothing changed')
  if (r.enrolled.length) out.push(`enrolled ${r.enrolled.length} file(s): ${r.enrolled.join(', ')}`)
  for (const h of r.held) out.push(red(`held ${h.path}:${h.line}:${h.col}: ${h.message}`))
  for (const n of r.next) out.push(dim(`next: ${n}`))
  return out.join('\n')
}

export function formatSync(r: SyncReport): string {
  r = visibleDeep(r)
  const out: string[] = []
  for (const p of r.peers) {
    const who = p.name ? `${p.name}${p.kind === 'agent' ? ' (agent)' : ''}${p.access === 'read' ? ' (read-only token)' : ''} ` : ''
    const color = p.outcome === 'synced' ? green : red
    out.push(`${color(p.outcome.padEnd(11))} ${who}${dim(p.url)}${p.error ? `  ${p.error}` : ''}`)
  }
  out.push(
    r.filesChanged.length ? `updated ${r.filesChanged.length} file(s): ${r.filesChanged.join(', ')}` : 'no files changed',
  )
  out.push(dim(`sent ${fmtBytes(r.bytesSent)}, received ${fmtBytes(r.bytesReceived)}`))
  if (r.pending.length) out.push(yellow(`pending (no peer has them yet): ${r.pending.join(', ')}`))
  for (const h of r.held ?? []) out.push(red(`${h.state} ${h.path}:${h.line}:${h.col}: ${h.message} — nothing from it was sent`))
  if (r.joining) {
    out.push(yellow('joining: no peer had this space\'s state yet, so this machine\'s files wait and nothing of them was sent. They go once a member that has it (whoever created the space) has synced there; on the space\'s only machine, remove .ctxsync/joining and sync again.'))
  }
  return out.join('\n')
}

export function formatPeers(r: PeersResult): string {
  r = visibleDeep(r)
  const out: string[] = []
  const kind = (k: string) => (k === 'agent' ? ' (agent)' : k === 'relay' ? ' (relay)' : '')
  out.push(bold('known peers') + dim(` (space ${r.space})`))
  if (r.known.length === 0) out.push(dim('  none met yet'))
  for (const p of r.known) {
    const state = p.connected ? green('connected') : dim(`last seen ${when(p.lastSeen)}`)
    out.push(`  ${p.name}${kind(p.kind)}  ${state}${p.url ? dim(`  ${p.url}`) : ''}`)
  }
  if (r.online?.length) out.push('', bold('online now'), ...formatOnline(r.online))
  if (r.mdns === null) out.push('', dim('mDNS: nothing looks for peers on the LAN until `ctxsync watch` runs'))
  else if (r.mdns) {
    out.push('', bold('found on the LAN') + dim(' (mDNS)'))
    if (r.mdns.length === 0) out.push(dim('  nobody of this space yet'))
    for (const f of r.mdns) {
      const state = !f.compatible ? red(`protocol v${f.proto}: upgrade one side`) : f.connected ? green('connected') : f.announced ? yellow('connecting') : dim('gone')
      const known = r.known.find((k) => k.id === f.id)
      out.push(`  ${known ? `${known.name}${kind(known.kind)} ${dim(f.id)}` : f.id}  ${state}${dim(`  ${f.url}, seen ${when(f.seenAt)}`)}`)
    }
  }
  const reg = r.registry
  if (reg) {
    out.push('', bold('online now') + dim(` (relay ${reg.url})`))
    if (reg.outcome !== 'synced') out.push(red(`  could not ask the relay: ${reg.error ?? reg.outcome}`))
    else if (reg.peers.length === 0) out.push(dim('  nobody (one-shot syncs are not listed)'))
    for (const p of reg.peers) {
      const since = when(new Date(p.since).toISOString())
      out.push(`  ${p.name}${kind(p.kind)}${p.host ? dim(` on ${p.host}`) : ''}  ${dim(`${p.access}, connected ${since}`)}${p.address ? dim(`  ${p.address}`) : ''}`)
    }
  }
  return out.join('\n')
}

/** `peers --prune`: who was forgotten (with when each was last seen), and how many are still known. */
export function formatPruned(r: PruneResult): string {
  r = visibleDeep(r)
  const age = `${r.days} day${r.days === 1 ? '' : 's'}`
  const still = `${r.known.length} peer(s) still known${r.known.length ? ' (`ctxsync peers` lists them)' : ''}`
  if (r.forgotten.length === 0) return `nothing to forget: no peer has gone unseen for ${age} or more; ${still}`
  const out = [`forgot ${r.forgotten.length} peer(s) not seen for ${age} or more:`]
  for (const p of r.forgotten) {
    out.push(`  ${p.name}${p.kind === 'agent' ? ' (agent)' : p.kind === 'relay' ? ' (relay)' : ''}  ${dim(`last seen ${when(p.lastSeen)}${p.url ? `  ${p.url}` : ''}`)}`)
  }
  out.push(still)
  return out.join('\n')
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}

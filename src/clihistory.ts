/**
 * The history commands' part of the CLI (`history`, `show`, `diff`, `restore`, `undo`, `blame`): their
 * flags, help and printing, registered on the program by `cli.ts` (kept apart: cli.ts is at its size limit).
 * Values come from peers: printed through `visible`, never raw, except `show`, whose output is the file.
 */
import type { Command } from 'commander'
import { examples, prose } from './clihelp.js'
import { CtxError, UsageError } from './errors.js'
import { visible, visibleDeep } from './visible.js'
import { massDeletionWhat } from './space/versions/guardtext.js'

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n')
const json = (v: unknown) => out(JSON.stringify(visibleDeep(v), null, 2))
/**
 * `show --json`: the text is the file, as plain `show` prints it. Through `visible` its line breaks became
 * the two characters `\n` (`jq -r .text` gave one long line). JSON already escapes C0 controls; the other
 * characters `visible` escapes are written as JSON escapes, so the output is as safe and decodes exactly.
 */
const jsonWithText = (v: Record<string, unknown>, text: string | null) => {
  const s = JSON.stringify({ ...visibleDeep(v), text }, null, 2)
  out(s.replace(/[\u007f-\uffff]/g, (c) => (visible(c) === c ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)))
}
const cwdOf = (cmd: Command): string => (cmd.optsWithGlobals() as { cwd?: string }).cwd ?? process.cwd()
const count = (v: string) => {
  if (!/^\d+$/.test(v)) throw new UsageError(`-n takes a number, got ${JSON.stringify(v)}`)
  return Number(v)
}
const history = () => import('./commands/history.js')
const undo = () => import('./commands/undo.js')

type Author = { name: string; kind: string }
// No author is said in words: a '?' read as a fault (a joining clone's blame, issue 16 tester).
const who = (as: Author[]) => (as.length ? as.map((a) => visible(a.name) + (a.kind === 'agent' ? ' (agent)' : '')).join(', ') : '(no author recorded)')
/** An empty history said as what was asked: a filter that matched nothing is not "nothing kept yet". */
function noneKept(p: string | undefined, since: string | undefined, author: string | undefined, authors: Author[] | undefined): string {
  if (p === undefined && since === undefined && author === undefined) return 'no changes kept yet'
  const what = `no change${p !== undefined ? ` to ${visible(p)}` : ''}${author !== undefined ? ` by ${visible(author)}` : ''}${since !== undefined ? ` since ${visible(since)}` : ''}`
  if (author === undefined || !authors) return `${what} is kept on this machine`
  return `${what} is kept on this machine; ${authors.length ? `the ones kept are by: ${who(authors)}` : 'none by anyone else either'}`
}
const EXIT = prose('\nExit codes: 0 ok, 1 error (no such change, time or commit; the file did not exist at that point; nothing to undo), 2 usage (also: a path that is not a tracked file).\n')

export function registerHistory(program: Command): void {
  program.command('history')
    .description('changes to the tracked files this machine kept, and commits with a sync point, newest first: id, time, author (human or agent), file, fields changed')
    .argument('[path]', 'only this file')
    .option('-n, --max-count <n>', 'at most this many changes', count)
    .option('--since <time>', 'only changes since: 10m, 2h, yesterday 14:00, an ISO time')
    .option('--author <name>', 'only changes by this peer')
    .option('--json', 'print the changes as JSON')
    .addHelpText('after', examples('ctxsync history', 'ctxsync history .rhema/todos.yaml -n 5', 'ctxsync history --since yesterday --author claude --json') + EXIT)
    .action(async (p: string | undefined, o, cmd: Command) => {
      const r = await (await history()).history({ cwd: cwdOf(cmd), path: p, limit: o.maxCount, since: o.since, author: o.author })
      if (o.json) return void json({ changes: r.entries, ...(r.notJoined ? { notJoined: true } : {}) })
      const { whenText } = await import('./space/versions/when.js')
      if (o.maxCount === 0) return
      if (r.notJoined) return void out('no changes kept: this clone has not joined the space (`ctxsync status` says how to join); history starts once it has')
      if (!r.entries.length) return void out(noneKept(p, o.since, o.author, r.authors))
      const lines: string[] = []
      for (const e of r.entries) {
        const how = e.via === 'local' || e.via === 'remote' ? '' : e.via === 'undo' ? `  (${undoOf(e)})` : e.via === 'git' ? `  (from git${e.authoredAt ? `, committed ${whenText(e.authoredAt, r.now)}` : ''})` : e.via === 'resolve' ? `  (conflict resolved${e.keptBy ? `: kept by ${who([e.keptBy])}` : ''})` : e.via === 'commit' ? `  (commit ${e.id} ${JSON.stringify(visible(e.subject ?? ''))})` : `  (${e.via})`
        lines.push(`${e.id}  ${whenText(e.time, r.now)}  ${who(e.authors)}  ${visible(e.file)}${how}`)
        // A commit's fields each name their writer when it committed others' writes too (stop 32, finding 9a).
        const by = (f: (typeof e.fields)[number]) => (e.authors.length > 1 && f.authors?.length ? `   — ${who(f.authors)}` : '')
        for (const f of e.fields.slice(0, 12)) lines.push(`    ${fieldLine(f)}${by(f)}`)
        if (e.fields.length > 12) lines.push(`    … and ${e.fields.length - 12} more`)
      }
      out(lines.join('\n'))
    })

  program.command('show')
    .description('print a file as it was: after a change (its id), at a time, or at a git commit (its sync point)')
    .argument('<ref>', 'a change id, a time (10m, 2h, yesterday 14:00, ISO) or a git commit-ish')
    .argument('[path]', 'the file (needed unless REF is a change id)')
    .option('--json', 'print {file, label, text} as JSON')
    .addHelpText('after', examples('ctxsync show 3f2a9c1b', 'ctxsync show 10m .rhema/todos.yaml', 'ctxsync show HEAD~3 .rhema/todos.yaml > /tmp/old.yaml') + EXIT)
    .action(async (ref: string, p: string | undefined, o, cmd: Command) => {
      const r = await (await history()).show({ cwd: cwdOf(cmd), ref, path: p, json: o.json })
      if (o.json) {
        const { text, ...rest } = r
        return void jsonWithText(rest, text)
      }
      process.stdout.write(r.text!)
    })

  program.command('diff')
    .description('what changed between two points, field by field, with who changed it (default: from the last commit to now)')
    .argument('[args...]', '[FROM] [TO] [PATH]: change ids, times or commits, and a file')
    .option('--json', 'print the changes as JSON')
    .addHelpText('after', examples('ctxsync diff', 'ctxsync diff 1h .rhema/todos.yaml', 'ctxsync diff HEAD~1 3f2a9c1b .rhema/todos.yaml --json') + EXIT)
    .action(async (args: string[], o, cmd: Command) => {
      const r = await (await history()).diff({ cwd: cwdOf(cmd), args })
      if (o.json) return void json(r)
      const lines: string[] = []
      for (const f of r.files) {
        lines.push(`${visible(f.file)}  (${visible(f.from)} → ${visible(f.to)})`)
        if (!f.changes.length) lines.push('    no changes')
        for (const c of f.changes) lines.push(`    ${fieldLine(c)}${c.authors.length ? `   — ${who(c.authors)}` : ''}`)
      }
      out(lines.length ? lines.join('\n') : 'no changes')
    })

  program.command('blame')
    .description('every field of a file with its current value and who set it, when, human or agent')
    .argument('<path>', 'the file')
    .option('--json', 'print the fields as JSON')
    .addHelpText('after', examples('ctxsync blame .rhema/todos.yaml', 'ctxsync blame .rhema/todos.yaml --json | jq \'.fields[] | select(.authors[0].kind == "agent")\'') + EXIT)
    .action(async (p: string, o, cmd: Command) => {
      const r = await (await history()).blame({ cwd: cwdOf(cmd), path: p })
      if (o.json) return void json(r)
      const { historyNow, whenText } = await import('./space/versions/when.js').then(async (w) => ({ ...w, historyNow: (await import('./space/versions/clock.js')).historyNow }))
      const now = historyNow()
      const width = Math.min(48, Math.max(...r.fields.map((f) => f.path.length), 4))
      const kept = (f: (typeof r.fields)[number]) => (f.keptBy ? ` (kept by ${who([f.keptBy])})` : '')
      const by = (f: (typeof r.fields)[number]) => (f.authors.length ? who(f.authors) + kept(f) : `(${f.note ?? 'author not recorded'})`)
      out(r.fields.map((f) => `${visible(f.path).padEnd(width)}  ${short(f.value, 40).padEnd(40)}  ${f.via === 'unrecorded' ? '(not taken in yet)' : `${by(f)}  ${whenText(f.time!, now)}  ${f.change}`}`).join('\n'))
    })

  program.command('restore')
    .description('make files what they were at REF, as an edit that syncs to every peer (and can be undone)')
    .argument('<paths...>', 'the files')
    .requiredOption('--to <ref>', 'a change id, a time or a git commit-ish')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('ctxsync restore .rhema/todos.yaml --to HEAD', 'ctxsync restore .rhema/todos.yaml --to 2h', 'ctxsync undo   # takes the restore back') + EXIT)
    .action(async (paths: string[], o, cmd: Command) => {
      const r = await (await undo()).restore({ cwd: cwdOf(cmd), paths, to: o.to })
      if (o.json) return void json(r)
      // How much it took back, and whose: a restore reverts later edits by others too (issue 17 tester).
      const back = (f: (typeof r.files)[number]) => `: ${f.fields} field(s) changed back${f.lastSetBy.length ? ` (last set by ${visible(f.lastSetBy.join(', '))})` : ''}`
      out(r.files.map((f) => (f.changed ? `restored ${visible(f.file)} to ${visible(o.to)}${back(f)}${emptied(f)}` : `${visible(f.file)} already is as at ${visible(o.to)}`)).join('\n'))
    })

  program.command('undo')
    .description('revert one change (default: the latest made on this machine), keeping what others changed since')
    .argument('[change]', 'the change id (`ctxsync history`)')
    .option('--file <path>', 'the latest change made on this machine to this file')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('ctxsync undo', 'ctxsync undo 3f2a9c1b', 'ctxsync undo --file .rhema/todos.yaml') + EXIT)
    .action(async (change: string | undefined, o, cmd: Command) => {
      const r = await (await undo()).undo({ cwd: cwdOf(cmd), change, file: o.file }).catch((e) => refuseCommit(e, cwdOf(cmd), change))
      if (o.json) return void json(r)
      const note = r.conflicts ? ` (${r.conflicts} place(s) changed since by others kept as they are now)` : ''
      if (r.changed) return void out(`undid change ${r.change} by ${visible(r.author)} on ${visible(r.file)}${note}${emptied(r)}`)
      // Nothing left to take back: what the change did was changed since by others, and their edits stay.
      out(r.conflicts ? `nothing undone in ${visible(r.file)}: what change ${r.change} did was changed since by others (${r.conflicts} place(s)), kept as they are now` : `${visible(r.file)} already is as before change ${r.change}`)
    })
}

/**
 * What an undo took back. A peer's undo recorded here may name no change (`of` absent) or the id the
 * change had on its machine, which names nothing here: `(undo of undefined)` and an id `show` refuses.
 */
function undoOf(e: { of?: string; ofElsewhere?: true }): string {
  if (!e.of) return 'undo'
  return e.ofElsewhere ? 'undo of a change made on another machine' : `undo of ${e.of}`
}

/**
 * `undo ID` of a commit `history` lists: it is no change made here (nothing of this machine to take back),
 * and "no change ID" read as if the listed id were wrong. Says what it is and what brings its file back.
 */
async function refuseCommit(e: unknown, cwd: string, change: string | undefined): Promise<never> {
  if (!(e instanceof CtxError) || e.code !== 'no-such-ref' || !change) throw e
  const { gitRev } = await import('./space/versions/query.js')
  const commit = await gitRev(cwd, change)
  if (!commit) throw e
  throw new CtxError('not-a-change', `${change} is git commit ${commit.slice(0, 12)}, not a change made here: undo takes back a change this machine kept. To make a file what it was at that commit: ctxsync restore PATH --to ${change}`)
}

/** An undo or restore that removed most entries says so, as the daemon does for a save (issue 16 tester). */
function emptied(r: { file: string; massDeletion?: { removed: number; of: number; emptied?: true } }): string {
  const m = r.massDeletion
  if (!m) return ''
  const what = massDeletionWhat(m)
  return `\nwarning: this ${what} of ${visible(r.file)} on every peer; \`ctxsync undo\` takes it back`
}

function short(v: string, n: number): string {
  const s = visible(v)
  return s.length > n ? s.slice(0, n - 1) + '…' : s
}

/** One field of `diff` and `history`: `~ path: before → after`, each cut to fit a line. */
export function fieldLine(f: { path: string; kind: string; before?: string; after?: string }): string {
  // The root has no key path: a file emptied (or filled from empty) showed as `- : null`.
  const p = f.path === '' ? '(the whole file)' : visible(f.path)
  const v = (x: string | undefined, n: number) => (f.path === '' && (x === 'null' || x === undefined) ? 'empty' : short(x ?? '', n))
  if (f.kind === 'added') return `+ ${p}: ${v(f.after, 80)}`
  if (f.kind === 'removed') return `- ${p}: ${v(f.before, 80)}`
  const [b, a] = [v(f.before, 40), v(f.after, 40)]
  if (b !== a || f.path === '') return `~ ${p}: ${b} → ${a}`
  // Both cut to the same start (a long note changed further on) read as no change (black-box tester):
  // show each from a little before where they differ.
  const [x, y] = [f.before ?? '', f.after ?? '']
  let i = 0
  while (i < x.length && x[i] === y[i]) i++
  const from = Math.max(0, i - 12)
  return `~ ${p}: …${short(x.slice(from), 40)} → …${short(y.slice(from), 40)}`
}

/**
 * Installing ctxsync into a clone: hook scripts, the attributes that route context files to the merge
 * driver (`attributes.ts`), and the clone's git config (the driver's command, the notes fetch refspec, notes
 * copied on rewrite, autostash for merge and rebase).
 *
 * Existing hooks are chained, never overwritten: the old hook is renamed to `<hook>.pre-ctxsync` and our
 * script runs it first, with the same arguments and standard input, and exits with *its* status — so the
 * clone behaves exactly as before, plus ctxsync, whose own status is ignored (a hook must never fail or
 * block git because ctxsync, a peer or the network is unavailable). Uninstalling renames it back: the old
 * hook is restored byte for byte, mode included.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Repo } from './repo.js'
import { NOTES_REF, notesRefspec } from './notes.js'
import { DRIVER, readMaybe } from './attributes.js'

export const HOOKS = ['post-commit', 'post-merge', 'post-checkout', 'post-rewrite', 'pre-push'] as const
export type HookName = (typeof HOOKS)[number]
export const HOOK_MARKER = '# ctxsync-hook v1'
export const CHAIN_SUFFIX = '.pre-ctxsync'
/** Hooks git feeds on standard input: the chained hook must get it too. */
const STDIN_HOOKS = new Set<HookName>(['post-rewrite', 'pre-push'])

export { ATTR_BEGIN, ATTR_END, DRIVER } from './attributes.js'
/**
 * Made by the post-commit hook in git's directory before it starts the recorder in the background, removed
 * by the recorder when done: `git commit && git push` must push the sync point the commit is still getting.
 */
export const RECORDING_MARK = 'ctxsync-recording.'

/** How a hook or git runs ctxsync: this very installation, or `npx --no-install ctxsync` without one. */
export interface Runner {
  node: string | null
  bin: string | null
}

export const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

export function runnerCommand(r: Runner): string {
  return r.node && r.bin ? `${sq(r.node)} ${sq(r.bin)}` : 'npx --no-install ctxsync'
}

export function hookScript(name: HookName, r: Runner): string {
  // post-rewrite: ctxsync reads git's input too (rebase's `old new` pairs: notes.ts unmoveSyncPoints).
  const prev = name === 'post-rewrite'
    ? [
        'input=$(mktemp "${TMPDIR:-/tmp}/ctxsync-hook.XXXXXX" 2>/dev/null) || input=',
        'if [ -n "$input" ]; then cat >"$input"; fi',
        'if [ -x "$prev" ]; then',
        '  if [ -n "$input" ]; then "$prev" "$@" <"$input" || status=$?; else "$prev" "$@" || status=$?; fi',
        'fi',
      ]
    : STDIN_HOOKS.has(name)
    ? [
        'if [ -x "$prev" ]; then',
        '  # git gives this hook input on stdin: keep it for the previous hook',
        '  input=$(mktemp "${TMPDIR:-/tmp}/ctxsync-hook.XXXXXX" 2>/dev/null) || input=',
        '  if [ -n "$input" ]; then cat >"$input"; "$prev" "$@" <"$input" || status=$?; rm -f "$input"',
        '  else "$prev" "$@" || status=$?; fi',
        'fi',
      ]
    : ['if [ -x "$prev" ]; then "$prev" "$@" || status=$?; fi']
  // pre-push: the notes are pushed only when the push goes ahead. post-commit: the sync point is recorded
  // in the background, so that no commit waits for it (its warnings go to .ctxsync/hooks.log). The
  // redirections sit on the subshell: on the function call, sh keeps the original descriptors open in the
  // background job (to restore them afterwards), and whoever reads git's stderr would wait for it to end.
  const run = name === 'pre-push'
    ? `[ "$status" -eq 0 ] && ctxsync_hook ${name} "$@" </dev/null || true`
    : name === 'post-commit'
      ? `(unset GIT_INDEX_FILE; c=$(git rev-parse -q --verify HEAD); m="$(git rev-parse --absolute-git-dir)/${RECORDING_MARK}$c"; : >"$m"; CTXSYNC_COMMIT=$c CTXSYNC_MARK=$m CTXSYNC_HOOK_BACKGROUND=1 ctxsync_hook ${name} "$@" &) </dev/null >/dev/null 2>&1`
      : name === 'post-rewrite'
        ? `ctxsync_hook ${name} "$@" <"\${input:-/dev/null}" || true; [ -z "$input" ] || rm -f "$input"`
        : `ctxsync_hook ${name} "$@" </dev/null || true`
  return [
    '#!/bin/sh',
    HOOK_MARKER,
    `# Installed by \`ctxsync hooks install\`; \`ctxsync hooks uninstall\` removes it and puts back the hook that`,
    `# was here before (kept as ${name}${CHAIN_SUFFIX}, run first). ctxsync never makes git fail: its problems are`,
    '# warnings and its exit status is ignored.',
    'ctxsync_hook() {',
    `  node=${sq(r.node ?? '')}; bin=${sq(r.bin ?? '')}`,
    '  if [ -n "$node" ] && [ -x "$node" ] && [ -f "$bin" ]; then "$node" "$bin" hook "$@"',
    '  elif command -v npx >/dev/null 2>&1; then npx --no-install ctxsync hook "$@"',
    '  else echo "ctxsync: warning: ctxsync is not installed; skipped the $1 hook" >&2; fi',
    '}',
    'status=0',
    `prev="$0${CHAIN_SUFFIX}"`,
    ...prev,
    run,
    'exit $status',
    '',
  ].join('\n')
}

export function isOurHook(text: string): boolean {
  return text.split('\n', 3).includes(HOOK_MARKER)
}


export interface HookReport {
  installed: string[]
  chained: string[]
  /** Hooks left alone, with why. */
  skipped: Array<{ hook: string; why: string }>
}

export async function installHooks(dir: string, r: Runner): Promise<HookReport> {
  await fs.mkdir(dir, { recursive: true })
  const report: HookReport = { installed: [], chained: [], skipped: [] }
  for (const name of HOOKS) {
    const file = path.join(dir, name)
    const chained = file + CHAIN_SUFFIX
    const cur = await readMaybe(file)
    if (cur !== null && !isOurHook(cur)) {
      if ((await readMaybe(chained)) !== null) {
        report.skipped.push({ hook: name, why: `both ${name} and ${name}${CHAIN_SUFFIX} exist and neither is ctxsync's: merge them by hand, then install again` })
        continue
      }
      await fs.rename(file, chained)
      report.chained.push(name)
    }
    const text = hookScript(name, r)
    if (cur !== text) {
      await fs.writeFile(file + '.ctxsync-tmp', text, { mode: 0o755 })
      await fs.rename(file + '.ctxsync-tmp', file)
      report.installed.push(name)
    }
    await fs.chmod(file, 0o755)
  }
  return report
}

export interface UnhookReport {
  removed: string[]
  restored: string[]
  skipped: Array<{ hook: string; why: string }>
}

export async function uninstallHooks(dir: string): Promise<UnhookReport> {
  const report: UnhookReport = { removed: [], restored: [], skipped: [] }
  for (const name of HOOKS) {
    const file = path.join(dir, name)
    const chained = file + CHAIN_SUFFIX
    const cur = await readMaybe(file)
    if (cur !== null && !isOurHook(cur)) {
      if ((await readMaybe(chained)) !== null) report.skipped.push({ hook: name, why: `${name} was replaced since install; ${name}${CHAIN_SUFFIX} left in place` })
      continue
    }
    if (cur !== null) {
      await fs.rm(file)
      report.removed.push(name)
    }
    if ((await readMaybe(chained)) !== null) {
      await fs.rename(chained, file)
      report.restored.push(name)
    }
  }
  return report
}

/**
 * The runner a hook of ours calls (`node='…'; bin='…'`), so that a hook is judged by its script alone: one
 * written for another installation is not out of date. Null when the line is not there (not a hook we wrote).
 */
function runnerOf(text: string): Runner | null {
  const m = /^ {2}node=((?:'[^']*'|\\')*); bin=((?:'[^']*'|\\')*)$/m.exec(text)
  if (!m) return null
  const unquote = (q: string) => q.replace(/'([^']*)'|\\'/g, (_all, inner: string | undefined) => inner ?? "'")
  return { node: unquote(m[1]!) || null, bin: unquote(m[2]!) || null }
}

/**
 * Our installed hooks whose script is not the one this version installs: a clone whose hooks an older
 * ctxsync wrote keeps that version's behaviour (before caa94fd, a rebase left sync points moved onto the
 * wrong commit) until `ctxsync hooks install` runs again, and nothing said so.
 */
export async function hooksOutdated(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const name of HOOKS) {
    const t = await readMaybe(path.join(dir, name)).catch(() => null)
    if (t === null || !isOurHook(t)) continue
    const r = runnerOf(t)
    if (!r || t !== hookScript(name, r)) out.push(name)
  }
  return out
}

export async function hooksInstalled(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const name of HOOKS) {
    const t = await readMaybe(path.join(dir, name)).catch(() => null)
    if (t !== null && isOurHook(t)) out.push(name)
  }
  return out
}

// The attributes that route context files to the driver: see attributes.ts.
export { addBlock, attributeBlock, attributesNameDriver, expandBraces, infoAttributesFile, removeBlock, removeWorktreeBlock } from './attributes.js'

// --- git config -------------------------------------------------------------------------------------

export interface ConfigState {
  /** notes.rewriteRef was added by us (so uninstall removes it). */
  rewriteRef: boolean
  /** Remotes we added the notes refspec to. */
  fetch: string[]
  /** The autostash keys we set (absent in the state of installs before them). */
  autoStash?: string[]
}

/**
 * The live context is always uncommitted work in a clone whose daemon runs, and git refuses to merge or
 * rebase over uncommitted work. With autostash, `git pull`, `merge` and `rebase` put it aside, do their
 * work and put it back, merging it with what came in (through the driver: no markers). Set only where this
 * clone's own config says nothing, so that a choice made here stays.
 */
export const AUTOSTASH_KEYS = ['merge.autoStash', 'rebase.autoStash'] as const

export async function configureGit(repo: Repo, r: Runner): Promise<{ state: ConfigState; changed: string[] }> {
  const changed: string[] = []
  const config = await repo.configSnapshot()
  const set = async (key: string, value: string) => {
    if (config.get(key) === value) return
    await repo.raw(['config', '--local', key, value])
    changed.push(key)
  }
  await set(`merge.${DRIVER}.name`, 'ctxsync: merges context files through the CRDT, never leaving conflict markers')
  await set(`merge.${DRIVER}.driver`, `${runnerCommand(r)} merge-driver %O %A %B %P`)
  const state: ConfigState = { rewriteRef: false, fetch: [], autoStash: [] }
  for (const key of AUTOSTASH_KEYS) {
    if (config.get(key, 'local') !== null) continue
    await repo.raw(['config', '--local', key, 'true'])
    state.autoStash!.push(key)
    changed.push(key)
  }
  if (!config.all('notes.rewriteRef').includes(NOTES_REF)) {
    // amend and rebase copy a commit's sync points to the rewritten commit.
    await repo.raw(['config', '--local', '--add', 'notes.rewriteRef', NOTES_REF])
    state.rewriteRef = true
    changed.push('notes.rewriteRef')
  }
  for (const remote of await repo.remotes()) {
    const spec = notesRefspec(remote)
    if (config.all(`remote.${remote}.fetch`).includes(spec)) continue
    await repo.raw(['config', '--local', '--add', `remote.${remote}.fetch`, spec])
    state.fetch.push(remote)
    changed.push(`remote.${remote}.fetch`)
  }
  return { state, changed }
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

export async function unconfigureGit(repo: Repo, state: ConfigState | null): Promise<string[]> {
  const changed: string[] = []
  if ((await repo.status(['config', '--local', '--remove-section', `merge.${DRIVER}`])) === 0) changed.push(`merge.${DRIVER}`)
  // Without a record of the install, take out only values that can only be ours.
  if (state?.rewriteRef ?? true) {
    if ((await repo.status(['config', '--local', '--unset-all', 'notes.rewriteRef', `^${reEscape(NOTES_REF)}$`])) === 0) changed.push('notes.rewriteRef')
  }
  // Only what we set, and only while it still holds our value (a later `git config` of the user's stays).
  for (const key of state?.autoStash ?? []) {
    if ((await repo.status(['config', '--local', '--unset-all', key, '^true$'])) === 0) changed.push(key)
  }
  for (const remote of state?.fetch ?? (await repo.remotes())) {
    const r = await repo.status(['config', '--local', '--unset-all', `remote.${remote}.fetch`, `^${reEscape(notesRefspec(remote))}$`])
    if (r === 0) changed.push(`remote.${remote}.fetch`)
  }
  return changed
}

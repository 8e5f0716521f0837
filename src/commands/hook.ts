/**
 * `ctxsync hook <name> [args…]`: what each installed git hook does. Never fails git: every problem is a
 * warning, the exit status is always 0, and `cli.ts` ends the process after a short deadline
 * (`CTXSYNC_HOOK_TIMEOUT`, seconds) whatever is still waiting — a peer, the network, a remote.
 *
 *   post-commit    record HEAD's sync point (started in the background by the hook script: while it runs,
 *                  `.ctxsync/post-commit.pid` says so and its warnings go to `.ctxsync/hooks.log`)
 *   post-merge     merge fetched sync points; tell the daemon git is done; a merge commit gets a sync point
 *   post-checkout  tell the daemon git is done (it reconciles, or switches branch state)
 *   post-rewrite   tell the daemon (notes are copied to rewritten commits by notes.rewriteRef; one a
 *                  rebase copied from a dropped commit onto another's is taken back: its stdin, `old new`)
 *   pre-push       push the sync points along (`refs/notes/ctxsync`)
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import {
  daemonClient, findRoot, hookInfo, loadBranches, loadGitHooks, loadNotes, loadRepo, loadSyncPoints, orElse, spacePaths, HOOK_DAEMON_TIMEOUT_MS,
  type DocState, type HookName, type Repo, type SpacePaths,
} from '../space/index.js'

export interface HookOptions {
  cwd: string
  name: string
  args: string[]
  warn: (message: string) => void
  /** The deadline: after it the hook warns and ends the process (exit 0) whatever is still waiting. */
  timeoutMs: number
}

export interface HookResult {
  hook: string
  did: string[]
}

export const DEFAULT_HOOK_TIMEOUT_S = 5

export async function runHook(o: HookOptions): Promise<HookResult> {
  const root = findRoot(o.cwd)
  if (!root) return { hook: o.name, did: [] } // not a ctxsync repository (any more): nothing to do
  const paths = spacePaths(root)
  const background = process.env.CTXSYNC_HOOK_BACKGROUND === '1'
  const deadline = setTimeout(async () => {
    const secs = Math.round(o.timeoutMs / 100) / 10
    if (background) await logWarning(paths, `${o.name}: gave up after ${secs} s (CTXSYNC_HOOK_TIMEOUT)`)
    else o.warn(`${o.name}: gave up after ${secs} s (CTXSYNC_HOOK_TIMEOUT); git goes on`)
    if (background) await fs.rm(path.join(paths.state, 'post-commit.pid'), { force: true })
    await dropMark()
    process.exit(0)
  }, o.timeoutMs)
  try {
    return await run(o, root, paths, background)
  } finally {
    clearTimeout(deadline)
    await dropMark()
  }
}

/** git's input to the hook (none on a terminal; the hook script gives /dev/null when it has none to pass). */
async function readInput(): Promise<string> {
  if (process.stdin.isTTY) return ''
  let text = ''
  for await (const chunk of process.stdin) text += String(chunk)
  return text
}

/** The post-commit hook's "recording" mark (see `RECORDING_MARK`): gone once this recorder is done. */
async function dropMark(): Promise<void> {
  const mark = process.env.CTXSYNC_MARK
  if (mark && path.basename(mark).startsWith('ctxsync-recording.')) await fs.rm(mark, { force: true }).catch(() => undefined)
}

async function run(o: HookOptions, root: string, base: SpacePaths, background: boolean): Promise<HookResult> {
  const did: string[] = []
  let paths = base
  // Modules loaded here, each hook taking only what it uses: post-commit runs on every commit.
  const [info, { Repo }, notes] = await Promise.all([hookInfo(paths), loadRepo(), loadNotes()])
  const repo = await Repo.open(root)
  if (!info || !repo) return { hook: o.name, did }
  if (info.branches === 'separate') {
    const { branchPaths, DETACHED } = await loadBranches()
    paths = await branchPaths(paths, (await repo.branch()) ?? DETACHED, false)
  }
  const { mergeRemoteNotes, pushNotes } = notes
  const warn = background ? (m: string) => void logWarning(paths, m) : o.warn
  const step = async (what: string, f: () => Promise<unknown>) => {
    try {
      const r = await f()
      if (r !== false && r !== null && r !== undefined) did.push(what)
    } catch (e) {
      warn(`${o.name}: could not ${what}: ${(e as Error).message.split('\n')[0]}`)
    }
  }
  switch (o.name as HookName) {
    case 'post-commit': {
      const pid = path.join(paths.state, 'post-commit.pid')
      if (background) await fs.writeFile(pid, String(process.pid)).catch(() => undefined)
      try {
        await step('record a sync point', () => syncPoint(root, paths, info, repo, 'commit'))
      } finally {
        if (background) await fs.rm(pid, { force: true })
      }
      break
    }
    case 'post-merge':
      await step('merge fetched sync points', async () => (await mergeRemoteNotes(repo)).length > 0)
      await step('tell the daemon', () => poke(paths))
      if (((await repo.commit('HEAD'))?.parents.length ?? 0) > 1) await step('record a sync point', () => syncPoint(root, paths, info, repo, 'merge'))
      break
    case 'post-checkout':
    case 'post-rewrite':
      if (o.name === 'post-rewrite') {
        const input = await readInput()
        await step('keep sync points on their commits', async () => (await notes.unmoveSyncPoints(repo, input)).length > 0)
      }
      await step('merge fetched sync points', async () => (await mergeRemoteNotes(repo)).length > 0)
      await step('tell the daemon', () => poke(paths))
      break
    case 'pre-push': {
      const remote = o.args[0] || o.args[1]
      if (!remote) break
      // `git commit && git push`: the commit's sync point may still be being recorded.
      await recordersDone(repo.gitDir, Math.max(1000, o.timeoutMs - 1500))
      await step('merge fetched sync points', async () => (await mergeRemoteNotes(repo)).length > 0)
      await step(`push sync points to ${remote}`, async () => (await pushNotes(repo, remote)) === 'pushed')
      break
    }
    default:
      warn(`unknown hook ${o.name}: nothing to do`)
  }
  return { hook: o.name, did }
}

/**
 * Waits (at most `ms`) while post-commit recorders run: their marks exist from the moment the hook started
 * them. A mark older than a minute is a recorder that was killed: removed, not waited for.
 */
async function recordersDone(gitDir: string, ms: number): Promise<void> {
  const { RECORDING_MARK } = await loadGitHooks()
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const marks = (await fs.readdir(gitDir).catch(() => [] as string[])).filter((n) => n.startsWith(RECORDING_MARK))
    let live = 0
    for (const m of marks) {
      const st = await fs.stat(path.join(gitDir, m)).catch(() => null)
      if (st && Date.now() - st.mtimeMs > 60_000) await fs.rm(path.join(gitDir, m), { force: true })
      else if (st) live++
    }
    if (live === 0) return
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function logWarning(paths: SpacePaths, m: string): Promise<void> {
  await fs.appendFile(path.join(paths.state, 'hooks.log'), `${new Date().toISOString()} warning: ${m}\n`).catch(() => undefined)
}

async function poke(paths: SpacePaths): Promise<boolean> {
  const d = await daemonClient(paths, HOOK_DAEMON_TIMEOUT_MS)
  if (!d) return false
  await d.git()
  return true
}

/**
 * States from the daemon when one runs, else from the saved summary. After a merge the daemon first takes
 * in what git did (`wait`); a commit rewrote no file, so post-commit does not wait for that.
 */
async function syncPoint(root: string, paths: SpacePaths, info: { track: string[]; name: string }, repo: Repo, via: 'commit' | 'merge'): Promise<boolean> {
  const { recordSyncPoint, savedStates } = await loadSyncPoints()
  const states: Record<string, DocState> = await orElse(
    await daemonClient(paths, HOOK_DAEMON_TIMEOUT_MS),
    async (d) => (await d.syncpoint({ wait: via === 'merge' })).states,
    () => savedStates(paths),
  )
  // The hook script names the commit it ran for: commits in quick succession must each get their own.
  const commit = via === 'commit' ? process.env.CTXSYNC_COMMIT || undefined : undefined
  return (await recordSyncPoint({ root, paths, track: info.track, states, via, by: info.name, repo, commit })) !== null
}

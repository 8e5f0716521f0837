/**
 * `ctxsync hooks install` / `ctxsync hooks uninstall` (and `init --hooks`): git hooks, the merge driver and
 * the notes refspec in this clone (see `git/hooks.ts` for how existing hooks are kept). Needs an
 * initialised clone: the hooks act on its space.
 */
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { CtxError, NotInitializedError } from '../errors.js'
import {
  requireRoot, loadGitHooks, loadRepo, loadSetup, packageRoot, spacePaths,
  type ConfigState, type HookReport, type Repo, type Runner, type UnhookReport,
} from '../space/index.js'

export interface HooksOptions {
  cwd: string
}

export interface HooksInstallResult {
  root: string
  hooksDir: string
  hooks: HookReport
  /** This clone's attributes file (`.git/info/attributes`) changed: nothing to commit. */
  attributes: boolean
  attributesFile: string
  config: string[]
  runner: string
  next: string[]
}

export interface HooksUninstallResult {
  root: string
  hooksDir: string
  hooks: UnhookReport
  /** Our block left this clone's attributes (`.git/info/attributes`, or an uncommitted one in `.gitattributes`). */
  attributes: boolean
  /** A `.gitattributes` the team committed with the driver in it: left as the team committed it (see `next`). */
  committedAttributes: string | null
  /** The index still holds a ctxsync block HEAD lacks (staged by hand after an earlier install): see `next`. */
  stagedAttributes: string | null
  config: string[]
  next: string[]
}

/** This installation of ctxsync, by absolute paths (hooks and git must not depend on PATH). */
export function currentRunner(): Runner {
  const root = packageRoot()
  const bin = root && path.join(root, 'bin', 'ctxsync')
  return bin && fs.existsSync(bin) ? { node: process.execPath, bin } : { node: null, bin: null }
}

async function context(cwd: string): Promise<{ root: string; repo: Repo; state: string; track: string[] }> {
  const root = requireRoot(cwd)
  const paths = spacePaths(root)
  const { readIdentity, readTeamConfig } = await loadSetup()
  const config = await readTeamConfig(paths.config)
  if (!config) throw new NotInitializedError(root)
  if (!(await readIdentity(paths.identity))) throw new CtxError('no-local-state', `this clone is not initialised: run \`ctxsync init\` in ${root} first (or \`ctxsync init --hooks\`)`)
  const repo = await (await loadRepo()).Repo.open(root)
  if (!repo) throw new CtxError('no-git', `${root} is not in a git repository (or git is not installed): hooks need git`)
  return { root, repo, state: path.join(paths.state, 'hooks.json'), track: config.track }
}

async function readState(file: string): Promise<ConfigState | null> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as ConfigState
  } catch {
    return null
  }
}

export async function hooksInstall(o: HooksOptions): Promise<HooksInstallResult> {
  const { root, repo, state, track } = await context(o.cwd)
  const runner = currentRunner()
  const { addBlock, attributeBlock, configureGit, infoAttributesFile, installHooks, runnerCommand } = await loadGitHooks()
  const hooksDir = await repo.hooksDir()
  const hooks = await installHooks(hooksDir, runner)
  const attributesFile = await infoAttributesFile(repo)
  const prefix = path.relative(repo.root, root).split(path.sep).join('/')
  const attributes = await addBlock(attributesFile, attributeBlock(track, prefix))
  const { state: added, changed } = await configureGit(repo, runner)
  const prev = await readState(state)
  const union = (a: string[] | undefined, b: string[] | undefined) => [...new Set([...(a ?? []), ...(b ?? [])])]
  const merged: ConfigState = { rewriteRef: added.rewriteRef || (prev?.rewriteRef ?? false), fetch: union(prev?.fetch, added.fetch), autoStash: union(prev?.autoStash, added.autoStash) }
  await (await loadSetup()).writeFileAtomic(state, JSON.stringify(merged) + '\n')
  const next: string[] = []
  if (!runner.bin) next.push('ctxsync runs through `npx --no-install ctxsync`: install it in the project (npm i -D ctxsync) for hooks to find it')
  return { root, hooksDir, hooks, attributes, attributesFile, config: changed, runner: runnerCommand(runner), next }
}

export async function hooksUninstall(o: HooksOptions): Promise<HooksUninstallResult> {
  const { root, repo, state } = await context(o.cwd)
  const { infoAttributesFile, removeBlock, removeWorktreeBlock, unconfigureGit, uninstallHooks } = await loadGitHooks()
  const hooksDir = await repo.hooksDir()
  const hooks = await uninstallHooks(hooksDir)
  const info = await removeBlock(await infoAttributesFile(repo))
  // Never what the team committed: only a block an earlier install added here and nobody committed.
  const worktree = await removeWorktreeBlock(repo, root)
  const config = await unconfigureGit(repo, await readState(state))
  await fsp.rm(state, { force: true })
  const next: string[] = []
  const committedAttributes = worktree.state === 'committed' ? worktree.file : null
  const f = worktree.file
  if (committedAttributes) {
    const back = worktree.restored ? ' (its ctxsync block, which an earlier install here had changed, is back as committed)' : ''
    next.push(`the committed ${f} still names the ctxsync merge driver: left as the team committed it${back}; git merges those files as text in clones without the driver; if the team stops using ctxsync, delete its ctxsync block and commit that`)
  }
  // Staged by hand after an earlier install: the next commit would give the team a block it never had.
  const stagedAttributes = worktree.staged ? f : null
  if (worktree.staged) next.push(`the ctxsync block is still staged in ${f}, never committed: \`${worktree.staged === 'new' ? `git rm --cached ${f}` : `git restore --staged ${f}`}\` before your next commit`)
  if (!committedAttributes && !worktree.staged) next.push("nothing to commit: everything removed was this clone's own (.git/hooks, .git/info/attributes, .git/config)")
  return { root, hooksDir, hooks, attributes: info || worktree.state === 'removed', committedAttributes, stagedAttributes, config, next }
}

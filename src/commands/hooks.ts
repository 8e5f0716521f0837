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
  /** .gitattributes changed (commit it so every clone merges context files with the driver). */
  attributes: boolean
  config: string[]
  runner: string
  next: string[]
}

export interface HooksUninstallResult {
  root: string
  hooksDir: string
  hooks: UnhookReport
  attributes: boolean
  config: string[]
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
  const { addAttributes, configureGit, installHooks, runnerCommand } = await loadGitHooks()
  const hooksDir = await repo.hooksDir()
  const hooks = await installHooks(hooksDir, runner)
  const attributes = await addAttributes(root, track)
  const { state: added, changed } = await configureGit(repo, runner)
  const prev = await readState(state)
  const merged: ConfigState = { rewriteRef: added.rewriteRef || (prev?.rewriteRef ?? false), fetch: [...new Set([...(prev?.fetch ?? []), ...added.fetch])] }
  await (await loadSetup()).writeFileAtomic(state, JSON.stringify(merged) + '\n')
  const next: string[] = []
  if (attributes) next.push('commit .gitattributes so that every clone merges context files with the driver')
  if (!runner.bin) next.push('ctxsync runs through `npx --no-install ctxsync`: install it in the project (npm i -D ctxsync) for hooks to find it')
  return { root, hooksDir, hooks, attributes, config: changed, runner: runnerCommand(runner), next }
}

export async function hooksUninstall(o: HooksOptions): Promise<HooksUninstallResult> {
  const { root, repo, state } = await context(o.cwd)
  const { removeAttributes, unconfigureGit, uninstallHooks } = await loadGitHooks()
  const hooksDir = await repo.hooksDir()
  const hooks = await uninstallHooks(hooksDir)
  const attributes = await removeAttributes(root)
  const config = await unconfigureGit(repo, await readState(state))
  await fsp.rm(state, { force: true })
  return { root, hooksDir, hooks, attributes, config }
}

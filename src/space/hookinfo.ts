/**
 * The few settings git hooks need (tracked globs, branch mode, this peer's name), cached as JSON in
 * `.ctxsync/hookinfo.json`. A hook runs on every commit: reading `ctxsync.yaml` and `local.yaml` would
 * load the YAML parser, which costs more than the rest of the hook. The cache records the size and mtime
 * of both files and is rebuilt (with the parser) whenever either changed.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import type { BranchMode } from './config.js'
import type { SpacePaths } from './paths.js'

export interface HookInfo {
  track: string[]
  branches: BranchMode
  name: string
}

interface Cached extends HookInfo {
  v: 1
  stamp: string
}

async function stamp(paths: SpacePaths): Promise<string> {
  const s = await Promise.all([paths.config, paths.local].map((f) => fs.stat(f).then((x) => `${x.size}:${x.mtimeMs}`, () => '-')))
  return s.join('|')
}

/** The settings, from the cache when it is current; null when the space has no config. */
export async function hookInfo(paths: SpacePaths): Promise<HookInfo | null> {
  const file = path.join(paths.state, 'hookinfo.json')
  const now = await stamp(paths)
  try {
    const c = JSON.parse(await fs.readFile(file, 'utf8')) as Cached
    if (c.v === 1 && c.stamp === now) return { track: c.track, branches: c.branches, name: c.name }
  } catch {
    // none yet, or unreadable: rebuilt below
  }
  const { readLocalSettings, readTeamConfig, DEFAULT_HOST, DEFAULT_PORT } = await import('./config.js')
  const config = await readTeamConfig(paths.config)
  if (!config) return null
  const local = await readLocalSettings(paths.local, { name: path.basename(paths.root), agent: false, host: DEFAULT_HOST, port: DEFAULT_PORT, peers: [] })
  const info: HookInfo = { track: config.track, branches: config.branches ?? 'shared', name: local.name }
  const c: Cached = { v: 1, stamp: now, ...info }
  await fs.writeFile(file, JSON.stringify(c) + '\n').catch(() => undefined)
  return info
}

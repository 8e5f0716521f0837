/**
 * What hostile-input tests compare before and after an attack: the bytes of every file a space owns (its
 * tracked files and its sidecars), of a relay's data directory, and of places outside the repository that
 * escaping paths would reach. A hash per file is enough: any change at all is a failure.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Peer } from './helpers.js'

/** Every file under `dir` (relative path → sha256), skipping directories `skip` names at any depth. */
export function tree(dir: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (skip(r)) continue
      if (e.isDirectory()) walk(r)
      else if (e.isFile()) out[r] = createHash('sha256').update(fs.readFileSync(path.join(dir, r))).digest('hex')
      else out[r] = e.isSymbolicLink() ? `link:${fs.readlinkSync(path.join(dir, r))}` : 'other'
    }
  }
  walk('')
  return out
}

/**
 * A relay's stored state (`tree` of its --data), without the `seen.json` of each space (and its temp file
 * while written): that records legitimate sessions for expiry (`net/relay/expiry.ts`), not state.
 */
export function relayTree(dir: string): Record<string, string> {
  return tree(dir, (rel) => /\/seen\.json(\.[0-9a-f]+)?$/.test(rel))
}

/**
 * A peer's document state: its working tree (without .git) and its sidecars (.ctxsync/docs). Not the rest
 * of .ctxsync: the daemon keeps its peer book and status there, which connections legitimately update.
 */
export function spaceState(peer: Peer): Record<string, string> {
  return tree(peer.dir, (rel) => rel === '.git' || (rel.startsWith('.ctxsync') && rel !== '.ctxsync' && !rel.startsWith('.ctxsync/docs')))
}

export function spaceIdOf(peer: Peer): string {
  return /^space:\s*"?([\w-]+)"?/m.exec(fs.readFileSync(path.join(peer.dir, 'ctxsync.yaml'), 'utf8'))![1]!
}

export function secretOf(peer: Peer): string {
  return fs.readFileSync(path.join(peer.dir, '.ctxsync', 'secret'), 'utf8').trim()
}

/** Where escaping names would land if they were written relative to the repository root. */
export function escapeTargets(peer: Peer, names: readonly string[]): string[] {
  return names
    .filter((n) => n !== '' && !n.includes('\0'))
    .map((n) => path.resolve(peer.dir, n.replace(/\\/g, '/')))
    .filter((abs) => !abs.startsWith(path.join(peer.dir, '.rhema') + path.sep))
}

export function seedOf(): number {
  return Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)
}

/** Runs `body`; on failure the seed is printed so the run can be replayed with FUZZ_SEED. */
export async function withSeed<T>(name: string, seed: number, body: () => Promise<T>): Promise<T> {
  try {
    return await body()
  } catch (err) {
    console.error(`${name} failed with FUZZ_SEED=${seed}`)
    throw err
  }
}

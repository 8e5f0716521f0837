/**
 * Where this installation of ctxsync lives. The code runs either from `dist/` (compiled by tsc) or from
 * `dist/bundle/` (the same code bundled, see scripts/bundle.mjs), so paths relative to a module are not
 * stable: the package root is found by walking up to ctxsync's own package.json.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

interface Found {
  root: string
  version: string
}

let found: Found | null | undefined

function find(): Found | null {
  if (found !== undefined) return found
  found = null
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'ctxsync') return (found = { root: dir, version: pkg.version ?? '0.0.0' })
    } catch {
      // no package.json here (or not JSON): keep walking up
    }
    if (path.dirname(dir) === dir) return found
  }
}

export function packageRoot(): string | null {
  return find()?.root ?? null
}

export function packageVersion(): string {
  return find()?.version ?? '0.0.0'
}

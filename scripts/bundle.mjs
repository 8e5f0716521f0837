/**
 * Bundles the compiled CLI (dist/entry.js and everything it imports, dependencies included) into
 * dist/bundle/, split at the CLI's lazy imports so that a command loads only what it uses.
 *
 * Why: ctxsync runs as short processes (git hooks, the merge driver, `status` in prompts and editors).
 * On Node 20, resolving and compiling ~150 separate modules costs about 50 ms of each start; one bundle
 * pays for none of the resolving. bin/ctxsync uses the bundle when it is at least as new as dist/entry.js,
 * and dist/ otherwise (after a bare `tsc`), so a stale bundle never runs.
 */
import { build } from 'esbuild'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.join(root, 'dist', 'bundle')
fs.rmSync(out, { recursive: true, force: true })
await build({
  // The workers (space/parsecheck.ts, space/mergebudget.ts) are started from a file beside the chunk that
  // starts them.
  entryPoints: {
    entry: path.join(root, 'dist', 'entry.js'),
    'parse-worker': path.join(root, 'dist', 'space', 'parse-worker.js'),
    'merge-worker': path.join(root, 'dist', 'space', 'merge-worker.js'),
  },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'error',
  // Less source to scan at every start (~20 ms of a merge-driver run); names are kept, so stack traces
  // still say which function failed.
  minifyWhitespace: true,
  minifySyntax: true,
  // Dependencies written as CommonJS call require() and read __filename / __dirname; in an ES module
  // these have to be made.
  banner: {
    js: [
      "import { createRequire as __ctxsyncRequire } from 'node:module';",
      "import { fileURLToPath as __ctxsyncPath } from 'node:url';",
      'const require = __ctxsyncRequire(import.meta.url);',
      'const __filename = __ctxsyncPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(' '),
  },
})

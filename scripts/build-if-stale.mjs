/**
 * `npm test` builds first, since the end-to-end tests run the built CLI — but CI has just built it: `npm ci`
 * runs `prepare`, which is the same build. Building again cost CI half a minute of its 15 (stop 25). This
 * builds only when something the build reads is newer than its last output (dist/bundle/entry.js, written
 * last), so an edited source is always built before its tests run.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const mtime = (f) => {
  try {
    return fs.statSync(f).mtimeMs
  } catch {
    return -1
  }
}

function newest(dir) {
  let t = mtime(dir)
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : mtime(p))
  }
  return t
}

const built = mtime(path.join(root, 'dist', 'bundle', 'entry.js'))
const inputs = Math.max(newest(path.join(root, 'src')), ...['tsconfig.json', 'package.json', 'package-lock.json', 'scripts/bundle.mjs'].map((f) => mtime(path.join(root, f))))
if (built >= inputs) {
  console.log('build: dist/ is newer than everything it is built from; not building again')
} else {
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
  process.exit(r.status ?? 1)
}

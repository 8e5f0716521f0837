/**
 * Test helpers for the fs layer: temp directories, a seeded PRNG, and child processes that run the real
 * store/lock code (transpiled once per test file into a temp dir, since plain `node` cannot load .ts).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

const made: string[] = []

export async function tmpDir(prefix = 'ctxsync-fs-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  made.push(dir)
  return dir
}

export async function removeTmpDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })))
}

import { mulberry32 as prng } from '../helpers/random.js'
export { prng }

export function testSeed(): number {
  const env = process.env['CTXSYNC_SEED']
  return env ? Number(env) : Math.floor(Math.random() * 2 ** 31)
}

let built: Promise<string> | null = null

/** Transpiles src/ (leaf modules + fs) and test/fs/children into a temp tree; returns its root. */
export function buildChildren(): Promise<string> {
  built ??= (async () => {
    const ts = (await import('typescript')).default // loaded lazily: it takes a second to import
    const out = await tmpDir('ctxsync-children-')
    const files = [
      'src/ids.ts', 'src/errors.ts', 'src/debuglog.ts',
      ...(await fs.readdir(path.join(repoRoot, 'src/fs'))).filter((f) => f.endsWith('.ts')).map((f) => `src/fs/${f}`),
      ...(await fs.readdir(path.join(repoRoot, 'test/fs/children'))).filter((f) => f.endsWith('.ts')).map((f) => `test/fs/children/${f}`),
    ]
    for (const rel of files) {
      const src = await fs.readFile(path.join(repoRoot, rel), 'utf8')
      const js = ts.transpileModule(src, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      }).outputText
      const dest = path.join(out, rel.replace(/\.ts$/, '.js'))
      await fs.mkdir(path.dirname(dest), { recursive: true })
      await fs.writeFile(dest, js)
    }
    await fs.writeFile(path.join(out, 'package.json'), '{"type":"module"}\n')
    await fs.symlink(path.join(repoRoot, 'node_modules'), path.join(out, 'node_modules'), 'dir')
    return out
  })()
  return built
}

export interface Child {
  proc: ChildProcess
  /** Lines printed so far. */
  lines: string[]
  /** Resolves with the first line matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export async function startChild(script: string, args: string[]): Promise<Child> {
  const root = await buildChildren()
  const proc = spawn(process.execPath, [path.join(root, 'test/fs/children', `${script}.js`), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = []
  let buf = ''
  let stderr = ''
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString()
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      lines.push(line)
      for (const w of waiters.splice(0)) {
        if (w.re.test(line)) w.resolve(line)
        else waiters.push(w)
      }
    }
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => resolve({ code, signal }))
  })
  return {
    proc,
    lines,
    exited,
    waitFor(re, timeoutMs = 10_000) {
      const hit = lines.find((l) => re.test(l))
      if (hit !== undefined) return Promise.resolve(hit)
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`child ${script} printed no ${re} in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs)
        waiters.push({ re, resolve: (l) => { clearTimeout(t); resolve(l) } })
        void exited.then(() => setTimeout(() => reject(new Error(`child ${script} exited without ${re}; stderr: ${stderr}`)), 50))
      })
    },
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * git's own three-way text merge (`git merge-file`), the one place ctxsync spawns it. Two callers want it
 * for different reasons:
 *  - taking in a pull (`space/gitingest.ts`) tries it first on three texts: when the lines do not collide,
 *    git's line merge keeps each side's change exactly, and the result is used if it still parses;
 *  - the merge driver (`commands/merge-driver.ts`) falls back to it in place, conflict markers and all,
 *    when a version is not YAML the CRDT can take in.
 * A leaf like the rest of `git/`: texts and paths in, texts and exit codes out.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/**
 * Merges `ours` and `theirs` (both from `base`) in temp files. Resolves to the merged text, or null when
 * the lines collide (git would leave markers) or git could not run. `favor`: colliding lines go to that side.
 */
export async function mergeFileTexts(base: string, ours: string, theirs: string, favor?: 'theirs'): Promise<string | null> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-merge-'))
  try {
    const [o, a, b] = ['base', 'ours', 'theirs'].map((n) => path.join(dir, n)) as [string, string, string]
    await Promise.all([fs.writeFile(o, base), fs.writeFile(a, ours), fs.writeFile(b, theirs)])
    return await new Promise<string | null>((resolve) => {
      const c = spawn('git', ['merge-file', '-p', '-q', ...(favor ? [`--${favor}`] : []), a, o, b], { stdio: ['ignore', 'pipe', 'ignore'] })
      const out: Buffer[] = []
      c.stdout.on('data', (d: Buffer) => out.push(d))
      c.on('error', () => resolve(null))
      c.on('close', (code) => resolve(code === 0 ? Buffer.concat(out).toString('utf8') : null))
    })
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

export interface MergeInPlace {
  cwd: string
  /** Paths of the three versions; the result (markers included) is written over `ours`. */
  ours: string
  base: string
  theirs: string
}

/**
 * `git merge-file` over the files themselves, labelled ours/base/theirs, its messages on our stderr.
 * Resolves to git's exit status (the number of conflicts, capped by git), 255 when git could not run.
 */
export function mergeFileInPlace(o: MergeInPlace): Promise<number> {
  return new Promise<number>((resolve) => {
    const c = spawn('git', ['merge-file', '-L', 'ours', '-L', 'base', '-L', 'theirs', o.ours, o.base, o.theirs], { cwd: o.cwd, stdio: ['ignore', 'ignore', 'inherit'] })
    c.on('error', () => resolve(255))
    c.on('close', (n) => resolve(n ?? 255))
  })
}

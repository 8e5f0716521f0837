/**
 * The README's first command runs the demo: it must converge and exit 0. `--json` names the directory only
 * when `--keep` kept it (it named a deleted one: issue 17).
 */
import fs from 'node:fs'
import os from 'node:os'
import { expect, it } from 'vitest'
import { ctx } from './helpers.js'

it('demo --json converges, exits 0 and names no directory it removed; --keep keeps it', async () => {
  const r = await ctx(os.tmpdir(), ['demo', '--json'], { timeout: 120_000 })
  expect(r.exitCode, r.stderr).toBe(0)
  const out = JSON.parse(r.stdout) as { dir: string | null; converged: boolean; steps: unknown[] }
  expect(out.converged).toBe(true)
  expect(out.dir).toBeNull()
  expect(out.steps.length).toBeGreaterThan(3)
  const kept = await ctx(os.tmpdir(), ['demo', '--json', '--keep'], { timeout: 120_000 })
  const k = JSON.parse(kept.stdout) as { dir: string }
  expect(fs.existsSync(k.dir)).toBe(true)
  fs.rmSync(k.dir, { recursive: true, force: true })
}, 300_000)

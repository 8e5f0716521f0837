/**
 * ParseChecker with its real worker thread (the compiled `dist/space/parse-worker.js`: `npm test` builds
 * first; a bare vitest run without a build skips, saying so). The first-sync e2e in test/e2e/relay.test.ts
 * covers it inside the CLI.
 */
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_ENTRIES_ENV, ParseChecker, PARSE_BUDGET_ENV, tooCostly } from '../../src/space/parsecheck.js'

const WORKER = path.resolve(__dirname, '../../dist/space/parse-worker.js')
const built = fs.existsSync(WORKER)
const open: ParseChecker[] = []
afterEach(async () => {
  for (const c of open.splice(0)) await c.close()
})

function checker(minChars = 0, idleMs?: number): ParseChecker {
  const c = new ParseChecker({ minChars, workerUrl: pathToFileURL(WORKER), idleMs })
  open.push(c)
  return c
}

const good = (i: number) => `# file ${i}\ntodos:\n${Array.from({ length: 50 }, (_, k) => `  - id: t${k}\n    title: "item ${k} of ${i}"\n`).join('')}`

describe.skipIf(!built)('ParseChecker on its worker thread' + (built ? '' : ' (skipped: dist/ not built, run `npm run build`)'), () => {
  it('says which texts parse, for many checks in flight at once, each answer to its own question', async () => {
    const c = checker()
    const texts = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? `${good(i)}  - id: [unclosed\n` : good(i)))
    const got = await Promise.all(texts.map((t) => c.check(t)))
    expect(got).toEqual(texts.map((_, i) => i % 3 !== 0))
  })

  it('holds the same rules as the inline check: several documents, duplicate keys and NUL are refused', async () => {
    const c = checker()
    expect(await c.check('a: 1\n---\nb: 2\n')).toBe(false)
    expect(await c.check('a: 1\na: 2\n')).toBe(false)
    expect(await c.check('a: "x\u0000"\n')).toBe(false)
    expect(await c.check('a: 1\n')).toBe(true)
  })

  it('checks small texts inline, and rejects the checks still waiting when it closes', async () => {
    const c = checker(1 << 20)
    expect(await c.check(good(1))).toBe(true) // below minChars: no worker involved
    const big = checker()
    const pending = expect(big.check(`${good(2)}${'  - id: x\n'.repeat(20_000)}`)).rejects.toThrow(/closed while a rendering was being checked/)
    await big.close()
    await pending
    // A closed checker starts a new worker when asked again.
    expect(await big.check(good(3))).toBe(true)
  })
  it('gauges a large local file on the worker: its entry count, "slow" past the budget, and why tooCostly holds it', async () => {
    const c = checker()
    const flat = Array.from({ length: 30_000 }, (_, i) => `key${i}: value number ${i}`).join('\n') + '\n'
    expect(await c.gauge(flat, 120_000)).toBe(30_000)
    expect(await c.gauge('a: [unclosed\n', 120_000)).toBe(null)
    // 1 ms: no parse of 800 KB answers that fast; the answer is dropped, the worker stays usable.
    expect(await c.gauge(flat, 1)).toBe('slow')
    expect(await c.check('a: 1\n')).toBe(true)
    const env = { ...process.env }
    try {
      process.env[MAX_ENTRIES_ENV] = '20000'
      expect(await tooCostly(c, flat)).toMatch(/holds 30000 YAML entries, more than ctxsync syncs live \(20000\)/)
      process.env[MAX_ENTRIES_ENV] = '40000'
      expect(await tooCostly(c, flat)).toBe(null)
      process.env[PARSE_BUDGET_ENV] = '100'
      const big = flat.repeat(4).replace(/key(\d+):/g, (_, n, off) => `k${off}:`)
      expect(await tooCostly(c, big)).toMatch(/parsing it alone took longer than 0\.1 s/)
    } finally {
      process.env = env
    }
  })
})

describe.skipIf(!built)('ParseChecker idle', () => {
  it('stops its worker after a while without work, and starts one again when asked', async () => {
    const c = checker(0, 100)
    expect(await c.check(good(1))).toBe(true)
    expect(c.running).toBe(true)
    await new Promise((r) => setTimeout(r, 400))
    expect(c.running).toBe(false)
    expect(await c.check(good(2))).toBe(true)
    expect(c.running).toBe(true)
  })
})

describe('ParseChecker without its worker module', () => {
  it('checks inline when the worker file is not on disk (sources run by the test runner)', async () => {
    const c = new ParseChecker({ minChars: 0, workerUrl: pathToFileURL('/nonexistent/parse-worker.js') })
    open.push(c)
    expect(await c.check('a: 1\n')).toBe(true)
    expect(await c.check('a: [1\n')).toBe(false)
  })
})

/**
 * `status` counts a conflict the merge driver kept exactly once while the live context takes it over
 * (mergeadopt.ts `besideAdoptions`). Asked of the daemon and read from the records apart, a status between
 * the adoption's change of the document and the record's removal counted it twice, and one that asked the
 * daemon before the adoption and read the records after it counted none (CI, e2e plain-git 'a conflict the
 * merge driver kept counts in status and fails status --check': `--check` exit 4, then `--json` 0 conflicts).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { LocalSpace } from '../../src/space/local.js'
import { annAfter, driverMerge, idle, removeSpaceDirs, SEED, TODOS, writeFile } from './harness.js'

afterAll(removeSpaceDirs)

const title = (t: string) => SEED.replace('title: second', `title: ${t}`)

describe('status while the live context takes over a merge record', () => {
  it('counts the conflict once in every answer: before, during and after the adoption', async () => {
    // ann's live context held pat's title; bob's offline commit brings another: a record the driver keeps.
    const a = await annAfter([title('two by pat')])
    try {
      const m = await driverMerge(a, SEED, title('two by pat'), title('two by bob'))
      expect(m.conflicts).toBe(1)
      const local = await LocalSpace.over(a.s)
      // As after git's merge: the file is the driver's text; the daemon takes it in and adopts the record
      // (its scan), while status asks.
      await writeFile(a.root, TODOS, m.merged)
      const counts: number[] = [(await local.status()).conflicts]
      let done = false
      const scan = a.s.scan().then(() => idle(a.s)).finally(() => (done = true))
      while (!done) counts.push((await local.status()).conflicts)
      await scan
      counts.push((await local.status()).conflicts)
      expect(a.s.conflicts().map((c) => c.display)).toEqual(['todos[id=t1].title']) // taken over: live now
      expect(new Set(counts), `answers, in runs: ${runs(counts)}`).toEqual(new Set([1]))
    } finally {
      await a.close()
    }
  })
})

/** `0 ×3, 1 ×9`: what the answers were, in order. */
const runs = (xs: number[]): string =>
  xs.reduce<Array<[number, number]>>((acc, x) => (acc.at(-1)?.[0] === x ? (acc.at(-1)![1]++, acc) : [...acc, [x, 1]]), []).map(([x, n]) => `${x} ×${n}`).join(', ')

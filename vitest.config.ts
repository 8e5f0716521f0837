import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * The slowest files (their durations in a local CI run of stop 26, three workers) start first. Vitest orders a
 * fresh clone's files by size, and a long file started late kept one worker busy alone after the others had
 * run out of files (converge.test.ts, 81 s, ended 108th of 118). The rest keep vitest's order.
 */
const SLOW_FIRST = [
  'e2e/crash.test.ts', 'crdt/converge.test.ts', 'e2e/plain-git.test.ts', 'e2e/resolved-stays.test.ts', 'e2e/hooks.test.ts',
  'e2e/edits-live.test.ts', 'e2e/crash-serve.test.ts', 'e2e/merge-driver.test.ts', 'e2e/faults.test.ts', 'e2e/hostile-model.test.ts',
  'e2e/merge-records.test.ts', 'e2e/git-ops.test.ts', 'e2e/relay.test.ts', 'e2e/sync.test.ts', 'crdt/edit-generator.test.ts',
  'e2e/cli.test.ts', 'crdt/stale-save.test.ts', 'e2e/concurrent.test.ts', 'e2e/odd-yaml.test.ts', 'crdt/rename-race.test.ts',
  'crdt/conflicts-gen.test.ts', 'crdt/keepformat.test.ts', 'crdt/hostile-model.test.ts',
]

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((s) => f.moduleId.replaceAll('\\', '/').endsWith(`/test/${s}`))
      return i < 0 ? SLOW_FIRST.length : i
    }
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b))
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Five on two cores: most of the end-to-end tests' time is waiting on daemons (resolved-stays: 74
    // CPU-seconds in 170 s), so with three the suite used 172 % of the two cores (stop 31: 1,596
    // CPU-seconds in 930 s, over CI's 15 minutes), with four 185 % (stop 32: 1,620 in 877 s); with two, a
    // core sat idle much of the time (stop 25).
    maxWorkers: 5,
    minWorkers: 1,
    sequence: { sequencer: SlowFirst },
  },
})

import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests start daemons and time edits; on small CI machines too many at once starve them.
    maxWorkers: 2,
    minWorkers: 1,
  },
})

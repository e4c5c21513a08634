import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // Memory-bound tests (test/adversary) force a collection before measuring the heap.
    execArgv: ['--expose-gc'],
  },
})

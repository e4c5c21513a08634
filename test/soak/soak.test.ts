/**
 * The soak test, short version (CI): 8 nodes on 127.0.0.1, 60,000 messages on 3 channels with random
 * sizes and priorities, 6 restarts of the 4 restartable nodes. `npm run soak` runs the full version
 * (1,000,000 messages, 20 restarts). What must hold is in `soak.ts`.
 */
import { describe, expect, it } from 'vitest'
import { problems, runSoak } from './soak.js'

describe('soak (short)', () => {
  it('8 nodes, 60,000 messages, 6 restarts: exactly once and in order over connections that stayed up (seed=31)', async () => {
    const r = await runSoak({ nodes: 8, stable: 4, messages: 60_000, restarts: 6, seed: 31 })
    expect(problems(r)).toEqual([])
    expect(r.restarts).toBe(6)
    expect(r.queued).toBeGreaterThanOrEqual(60_000)
    // Most traffic is between stable nodes or survives; the check must have had something to check.
    expect(r.stablePairs.reduce((n, p) => n + p.queued, 0)).toBeGreaterThan(r.queued / 10)
  }, 240_000)
})

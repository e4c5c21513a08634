/**
 * Fuzzing in every test run: each target of `test/fuzz/targets.ts` (message decoder, handshake
 * verifier, bit-vector and Peers handlers, frame opener on both backends, zstd with a cap) gets a few
 * thousand generated inputs, and every input saved in `test/corpus/` by `npm run fuzz` is replayed as
 * a regression case.
 */
import fc from 'fast-check'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { targets } from '../fuzz/targets.js'
import { FC_SEED } from '../helpers/backends.js'

const corpus = join(import.meta.dirname, '..', 'corpus')

describe.each(targets.map((t) => [t.name, t] as const))('fuzz target %s', (_name, target) => {
  it(`survives 3,000 generated inputs (seed=${FC_SEED})`, () => {
    fc.assert(fc.property(target.arbitrary, (input) => target.check(input)), { seed: FC_SEED, numRuns: 3_000 })
  })

  const dir = join(corpus, target.name)
  const saved = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : []
  it.skipIf(saved.length === 0)(`replays its ${saved.length} corpus case(s) (none saved yet when skipped)`, () => {
    for (const f of saved) {
      const input = target.load(JSON.parse(readFileSync(join(dir, f), 'utf8')))
      expect(() => target.check(input), f).not.toThrow()
    }
  })
})

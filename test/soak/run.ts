/**
 * `npm run soak`: the full soak (SOAK_MESSAGES, default 1,000,000; SOAK_RESTARTS, default 20;
 * SOAK_SEED). Prints progress, the numbers, and every broken promise; exits 1 if there is one.
 */
import { backend } from '../../src/native/load.js'
import { problems, runSoak } from './soak.js'

const messages = Number(process.env.SOAK_MESSAGES ?? 1_000_000)
const restarts = Number(process.env.SOAK_RESTARTS ?? 20)
const seed = Number(process.env.SOAK_SEED ?? 1)
console.log(`soak: backend ${backend}, seed ${seed}`)
const r = await runSoak({ nodes: 8, stable: 4, messages, restarts, seed, log: (l) => console.log(l) })
const stable = r.stablePairs.reduce((n, p) => n + p.queued, 0)
console.log(
  `soak: ${r.queued.toLocaleString('en')} queued, ${r.received.toLocaleString('en')} received in ${r.seconds.toFixed(1)} s; ` +
    `${r.restarts} restarts; ${stable.toLocaleString('en')} between nodes that stayed up (all checked exactly once, in order, against metrics); ` +
    `${r.lostWithConnection.toLocaleString('en')} lost with the connections of restarted nodes; ${r.duplicates} duplicates; ${r.corrupt} altered`,
)
const bad = problems(r)
for (const p of bad) console.log(`PROBLEM: ${p}`)
process.exit(bad.length === 0 ? 0 : 1)

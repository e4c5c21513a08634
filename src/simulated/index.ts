/**
 * `simulated`: the same `Sender`/`Receiver` API as `authenticated`, over a simulated network in
 * virtual time (links with latency, jitter, loss, corruption, ordering; partitions), deterministic
 * from the runtime's seed.
 *
 * ## Example
 * ```ts
 * import { SimulatedNetwork } from 'quorumnet/simulated'
 * const { oracle } = SimulatedNetwork.create(rt.context())
 * ```
 */
export { SimulatedNetwork, Oracle, DEFAULT_TRACE_LIMIT, type Link, type TraceEvent, type TraceOptions } from './network.js'
export type { Bandwidth } from './bandwidth.js'
export { Recipients, type Channel, type Receiver, type Sender } from '../authenticated/types.js'

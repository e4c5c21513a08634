/**
 * Runtimes: the `Context` every component receives, with a real implementation (`NodeContext`) and
 * a deterministic one (`DeterministicRuntime`) for tests and simulations in virtual time.
 *
 * ## Example
 * ```ts
 * import { DeterministicRuntime, NodeContext } from 'quorumnet/runtime'
 * ```
 */
export type { Address, Connection, Context, Handle, Listener, Sink, Stream } from './context.js'
export { TIMER_CANCELLED, formatAddress, parseAddress } from './context.js'
export { NodeContext, freePort, type NodeContextOptions } from './node.js'
export { DeterministicRuntime, DeadlockError, type DeterministicOptions, type LinkOptions, type RunLimits } from './deterministic/index.js'
export type { Auditor } from './deterministic/auditor.js'
export type { MemoryNetwork } from './deterministic/network.js'
export type { Scheduler } from './deterministic/scheduler.js'
export { SeededRng } from './rng.js'

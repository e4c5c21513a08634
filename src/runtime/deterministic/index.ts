/**
 * `DeterministicRuntime`: virtual time, seeded randomness and in-memory sockets, so a whole network of
 * nodes runs in one process and replays exactly from its seed.
 *
 * ## Design
 * One `Scheduler` (virtual clock and timer queue), one `SeededRng`, one `MemoryNetwork` and one
 * `Auditor` are shared by every `Context` the runtime hands out; each context has a host name so links
 * and faults can be set per pair of hosts. `run(fn)` drives everything until `fn` settles.
 *
 * ## Not provided
 * Parallelism: tasks interleave on one thread, at `await` points, in a seed-determined order.
 *
 * ## Example
 * ```ts
 * const rt = new DeterministicRuntime({ seed: 7 })
 * const digest = await rt.run(async (ctx) => { await ctx.sleep(1000); return rt.auditor.digest() })
 * ```
 */
import { Registry } from 'prom-client'
import { toSeed } from '../../crypto/scheme.js'
import { sleepAfter, type Address, type Context, type Handle, type Listener, type Connection } from '../context.js'
import { SeededRng } from '../rng.js'
import { Auditor } from './auditor.js'
import { MemoryNetwork, type LinkOptions } from './network.js'
import { DeadlockError, Scheduler } from './scheduler.js'

export { DeadlockError } from './scheduler.js'
export type { LinkOptions } from './network.js'

/** Options of a `DeterministicRuntime`. */
export interface DeterministicOptions {
  /** The seed of every random draw: an integer in 0..2^64-1 (the constructor throws `RangeError` otherwise). */
  seed: number | bigint
  /** Virtual time at start, ms since the Unix epoch (default 1_733_600_000_000, a realistic date). */
  startMs?: number
  /** Latency of every link without its own setting (default 1 ms). */
  defaultLink?: LinkOptions
}

/** Bounds on a `DeterministicRuntime.run`; when one is hit, `run` rejects with a `P2pError` of code `ERR_CLOSED`. */
export interface RunLimits {
  /** Fail if virtual time would pass this many ms after the start. */
  maxTimeMs?: number
  /** Fail after this many timer firings. */
  maxSteps?: number
}

/**
 * Virtual time, seeded randomness and in-memory sockets shared by every `Context` it hands out, so a
 * run replays exactly from its seed.
 */
export class DeterministicRuntime {
  /** The virtual clock and timer queue every context of this runtime uses. */
  readonly scheduler: Scheduler
  /** The seeded random stream every context of this runtime draws from. */
  readonly rng: SeededRng
  /** The digest of every socket event of the run. */
  readonly auditor = new Auditor()
  /** The in-memory sockets: set links and inject faults here. */
  readonly network: MemoryNetwork
  /** The metrics registry every context of this runtime shares. */
  readonly registry = new Registry()
  readonly #start: number

  /** A runtime whose clock starts at `opts.startMs`; throws `RangeError` if `opts.seed` is not in 0..2^64-1. */
  constructor(opts: DeterministicOptions) {
    this.#start = opts.startMs ?? 1_733_600_000_000
    this.scheduler = new Scheduler(this.#start)
    this.rng = new SeededRng(toSeed(opts.seed))
    this.network = new MemoryNetwork(this.scheduler, this.rng, this.auditor, opts.defaultLink ?? { latencyMs: 1 })
  }

  /**
   * A context for the node at `host` (its dials come from that host). Its metrics go to `registry`:
   * the runtime's shared one by default, or the node's own, so that one node's counters can be read apart.
   */
  context(host = '127.0.0.1', registry: Registry = this.registry): Context {
    return new DeterministicContext(this, host, registry)
  }

  /** Run `fn` on a context for `host` until it settles (or deadlocks, or a limit is hit). */
  run<T>(fn: (ctx: Context) => Promise<T>, limits: RunLimits = {}, host?: string): Promise<T> {
    const ctx = this.context(host)
    const root = ctx.spawn('root', () => fn(ctx))
    return this.scheduler.run(root.done, {
      ...(limits.maxSteps !== undefined ? { maxSteps: limits.maxSteps } : {}),
      ...(limits.maxTimeMs !== undefined ? { maxTimeMs: this.#start + limits.maxTimeMs } : {}),
    })
  }
}

class DeterministicContext implements Context {
  readonly registry: Registry

  constructor(
    private readonly rt: DeterministicRuntime,
    private readonly host: string,
    registry: Registry,
  ) {
    this.registry = registry
  }

  now(): number {
    return this.rt.scheduler.now()
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepAfter(this, ms, signal)
  }

  after(ms: number, fire: () => void): () => void {
    return this.rt.scheduler.at(this.now() + Math.max(0, ms), fire)
  }

  randomBytes(n: number): Uint8Array {
    return this.rt.rng.bytes(n)
  }

  #paced = 0

  /**
   * Every 1,024th call waits for a timer at the current virtual time, so other tasks due now run; by
   * count, never by time, so runs stay replayable.
   */
  pace(): Promise<void> | undefined {
    if (++this.#paced < 1024) return undefined
    this.#paced = 0
    return this.sleep(0)
  }

  randomInt(max: number): number {
    return this.rt.rng.int(max)
  }

  spawn<T>(label: string, fn: (signal: AbortSignal) => Promise<T>): Handle<T> {
    const controller = new AbortController()
    const s = this.rt.scheduler
    s.taskStarted(label)
    const done = Promise.resolve()
      .then(() => fn(controller.signal))
      .finally(() => s.taskEnded(label))
    // A task's failure is observed through `done`; keep an unobserved rejection from crashing the run.
    done.catch(() => undefined)
    return { label, done, abort: (reason?: unknown) => controller.abort(reason) }
  }

  async listen(address: Address): Promise<Listener> {
    return this.rt.network.listen(address)
  }

  dial(address: Address): Promise<Connection> {
    return this.rt.network.dial(this.host, address)
  }
}

export { DeterministicContext }
export const isDeadlock = (e: unknown): e is DeadlockError => e instanceof DeadlockError

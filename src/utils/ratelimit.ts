/**
 * `RateLimiter`: GCRA accounting for many (key, class) pairs, e.g. (peer, channel).
 *
 * ## Design
 * A thin owner of the active backend's `QuotaTable` (Rust in the addon). Keys are small integers the
 * caller assigns (a connection id); classes are channel ids or reserved ids for control messages, each
 * with its own `Quota`. Time is passed in, in milliseconds from any fixed origin (the runtime clock),
 * so the limiter works the same in real and virtual time. A refusal consumes nothing and says how long
 * to wait, which is what the reference does (it throttles; it never drops).
 *
 * ## Not provided
 * A bound on the aggregate rate over all keys: it grows with the number of peers.
 *
 * ## Example
 * ```ts
 * const rl = new RateLimiter(); rl.define(7, Quota.perSecond(100))
 * const waitMs = rl.check(peerId, 7, ctx.now()) // 0 = allowed now
 * ```
 */
import { binding } from '../native/load.js'
import type { QuotaTable } from '../native/binding.js'
import type { Quota } from './quota.js'

/** GCRA rate-limit state for many (key, class) pairs, each class limited by its own `Quota`. */
export class RateLimiter {
  readonly #table: QuotaTable = new binding.QuotaTable()

  /** Set the quota of a class (a channel id, or a reserved id for control messages). */
  define(cls: number, quota: Quota): void {
    this.#table.setQuota(cls, quota.periodNs, quota.burst)
  }

  /** 0 if (key, class) may proceed at `nowMs` (a cell is consumed), else the ms to wait. */
  check(key: number, cls: number, nowMs: number): number {
    return this.#table.check(key, cls, nowMs * 1e6) / 1e6
  }

  /** Forget every state of `key`. */
  remove(key: number): void {
    this.#table.removeKey(key)
  }

  /** Number of (key, class) states held. */
  get size(): number {
    return this.#table.size()
  }
}

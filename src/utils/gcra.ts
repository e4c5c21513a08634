/**
 * `Gcra`: the rate-limit state of one (key, class) pair in plain JavaScript, for hot paths that check
 * a quota per message.
 *
 * ## Design
 * The same arithmetic as the addon's `QuotaTable` and governor 0.6.3 (the reference's limiter): a
 * theoretical arrival time in nanoseconds from the caller's epoch, emission interval `periodNs`,
 * tolerance `periodNs * burst`; a refusal consumes nothing and says how long to wait. Checked against
 * the governor vectors (test/vectors/gcra.json) like the backends. Numbers stay exact: nanoseconds from
 * an epoch within about 104 days fit a double.
 *
 * ## Not provided
 * Many keys in one table (use `RateLimiter`); this is one pair, kept by its owner (a connection).
 *
 * ## Example
 * ```ts
 * const g = new Gcra(Quota.perSecond(100)); const waitNs = g.check(nowNs) // 0 = allowed
 * ```
 */
import type { Quota } from './quota.js'

/** The GCRA state of one (key, class) pair. */
export class Gcra {
  #tat: number | undefined
  readonly #t: number
  readonly #tau: number

  /** A fresh state for `quota` (a full burst available). */
  constructor(quota: Quota) {
    this.#t = quota.periodNs
    this.#tau = Math.max(1, quota.periodNs) * quota.burst
  }

  /** 0 if a cell may be spent at `nowNs` (it is), else the nanoseconds to wait (nothing is spent). */
  check(nowNs: number): number {
    const tat = this.#tat ?? nowNs + this.#t
    const earliest = tat - this.#tau
    if (nowNs < earliest) return earliest - nowNs
    this.#tat = Math.max(tat, nowNs) + this.#t
    return 0
  }
}

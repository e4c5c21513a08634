/**
 * `Quota`: how many cells per period a GCRA rate limiter allows, with the reference's semantics.
 *
 * ## Design
 * Same constructors and rounding as governor 0.6.3's `Quota` (used by the reference):
 * `perSecond(n)` replenishes one cell every floor(1e9 / n) ns with a burst of n; `perMinute(n)` every
 * floor(60e9 / n) ns; `withPeriod(ms)` one cell per period with a burst of 1, raised by `allowBurst`.
 * A quota is a plain value; the state lives in a `RateLimiter`.
 *
 * ## Not provided
 * Quotas finer than one nanosecond per cell, or bursts above 2^32 - 1.
 *
 * ## Example
 * `Quota.perSecond(100)` allows bursts of 100 and then one message every 10 ms.
 */
import { InvalidArgumentError } from '../errors.js'

const MAX_BURST = 0xffff_ffff

/**
 * An immutable GCRA quota: one cell replenished every `periodNs` ns, at most `burst` cells at once.
 * Build one with `perSecond`, `perMinute`, `perHour` or `withPeriod`; they throw `InvalidArgumentError` for invalid counts or periods.
 */
export class Quota {
  private constructor(
    /** Nanoseconds to replenish one cell. */
    readonly periodNs: number,
    /** Cells available at once. */
    readonly burst: number,
  ) {}

  /** n cells per second, bursts of n. */
  static perSecond(n: number): Quota {
    return new Quota(Math.floor(1e9 / checkCount(n)), n)
  }

  /** n cells per minute, bursts of n. */
  static perMinute(n: number): Quota {
    return new Quota(Math.floor(60e9 / checkCount(n)), n)
  }

  /** n cells per hour, bursts of n. */
  static perHour(n: number): Quota {
    return new Quota(Math.floor(3600e9 / checkCount(n)), n)
  }

  /** One cell per `periodMs`, bursts of 1. */
  static withPeriod(periodMs: number): Quota {
    if (!(periodMs > 0) || !Number.isFinite(periodMs)) {
      throw new InvalidArgumentError(`quota period must be a positive number of ms, got ${periodMs}`)
    }
    return new Quota(Math.max(1, Math.round(periodMs * 1e6)), 1)
  }

  /** The same replenishment rate with bursts of `burst`. */
  allowBurst(burst: number): Quota {
    return new Quota(this.periodNs, checkCount(burst))
  }

  /** Sustained cells per second. */
  get perSecondRate(): number {
    return 1e9 / this.periodNs
  }
}

function checkCount(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_BURST) {
    throw new InvalidArgumentError(`quota count must be an integer in 1..${MAX_BURST}, got ${n}`)
  }
  return n
}

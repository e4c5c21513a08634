/**
 * GCRA rate limiting for many keys (fallback backend), exactly as governor 0.6.3 computes it.
 *
 * ## Design
 * Per class: T = nanoseconds per cell, tau = T * burst. Per (key, class): the theoretical arrival time
 * `tat`, absent at first. A check at `now`: `tat0 = tat ?? now + T`; refuse (wait `tat0 - tau - now`)
 * if `now < tat0 - tau`, else allow and store `max(tat0, now) + T`. A refusal changes nothing.
 *
 * ## Not provided
 * Eviction of idle keys: call `removeKey` when a peer goes away.
 *
 * ## Example
 * per_second(2): checks at t=0 give 0, 0, then 500_000_000 (ns to wait).
 */
import { InvalidArgumentError } from '../../errors.js'
import type { QuotaTable } from '../binding.js'

export class JsQuotaTable implements QuotaTable {
  readonly #quotas = new Map<number, { t: number; tau: number }>()
  readonly #state = new Map<number, Map<number, number>>()
  #count = 0

  setQuota(cls: number, periodNs: number, burst: number): void {
    if (!(periodNs >= 0) || !Number.isInteger(burst) || burst < 1) {
      throw new InvalidArgumentError(`invalid quota: period ${periodNs} ns, burst ${burst}`)
    }
    this.#quotas.set(cls, { t: periodNs, tau: Math.max(periodNs, 1) * burst })
  }

  check(key: number, cls: number, nowNs: number): number {
    const q = this.#quotas.get(cls)
    if (!q) throw new InvalidArgumentError(`no quota for class ${cls}`)
    let perKey = this.#state.get(key)
    const tat = perKey?.get(cls) ?? nowNs + q.t
    const earliest = Math.max(0, tat - q.tau)
    if (nowNs < earliest) return earliest - nowNs
    if (!perKey) this.#state.set(key, (perKey = new Map()))
    if (!perKey.has(cls)) this.#count++
    perKey.set(cls, Math.max(tat, nowNs) + q.t)
    return 0
  }

  removeKey(key: number): void {
    const perKey = this.#state.get(key)
    if (perKey) {
      this.#count -= perKey.size
      this.#state.delete(key)
    }
  }

  size(): number {
    return this.#count
  }
}

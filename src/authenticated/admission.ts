/**
 * Admission of inbound connections: the listener's checks at accept, before a byte is read.
 *
 * ## Design
 * Every inbound connection is decided at once, never queued: `admit(remote, now)` either returns a
 * ticket (the connection may start its handshake, whose deadline runs from this moment) or the reason
 * it is refused, and the caller closes the socket without reading it. Checks run cheapest and least
 * costly to honest peers first:
 * 1. `handshakes_full`: `maxConcurrentHandshakes` inbound handshakes are already in progress;
 * 2. `ip_busy`: the source IP already has `maxConcurrentHandshakesPerIp` handshakes in progress;
 * 3. `ip_rate`: the source IP is over `allowedHandshakeRatePerIp`;
 * 4. `subnet_rate`: its subnet (/24 for IPv4, /48 for IPv6) is over `allowedHandshakeRatePerSubnet`;
 * 5. `global_rate`: all sources together are over `allowedIncomingConnectionRate`.
 * A per-source limit is checked before the global one, so one busy source cannot spend the budget of
 * everyone else. An IPv4-mapped IPv6 address counts as its IPv4 address.
 *
 * Rate state per IP and per subnet is a GCRA theoretical arrival time in a `Map`; an entry whose time
 * has passed is the same as no entry, so the maps are swept whenever they double in size and hold only
 * sources seen within one burst window.
 *
 * ## Not provided
 * Protection from an attacker with more addresses than the global budget: it can keep every
 * handshake slot busy and every global cell spent, so inbound connections from honest peers are
 * refused for as long as it lasts. A node stays connected through its own outbound dials to the
 * peers it knows, which no inbound check delays (see SECURITY.md).
 *
 * ## Example
 * ```ts
 * const t = admission.admit(conn.remote, ctx.now())
 * if (typeof t === 'string') { metrics.handshakesRefused.inc({ reason: t }); conn.sink.close() }
 * else try { await handshake() } finally { t.done() }
 * ```
 */
import { ipBytes, socketAddress } from '../codec/address.js'
import { parseAddress, type Address } from '../runtime/context.js'
import type { Quota } from '../utils/quota.js'

/** Why a connection was refused at accept (the `reason` label of `handshakes_refused`). */
export type AdmissionRefusal = 'handshakes_full' | 'ip_busy' | 'ip_rate' | 'subnet_rate' | 'global_rate'

/** The limits admission applies; the fields of the network `Config` of the same names. */
export interface AdmissionLimits {
  /** Inbound handshakes in progress at once, over all sources. */
  maxConcurrentHandshakes: number
  /** Inbound handshakes in progress at once from one IP. */
  maxConcurrentHandshakesPerIp: number
  /** Inbound connections accepted per period from one IP. */
  allowedHandshakeRatePerIp: Quota
  /** Inbound connections accepted per period from one subnet (/24 IPv4, /48 IPv6). */
  allowedHandshakeRatePerSubnet: Quota
  /** Inbound connections accepted per period, over all sources. */
  allowedIncomingConnectionRate: Quota
}

/** A connection that passed admission; call `done()` once its handshake ended (either way). */
export interface Ticket {
  /** The source IP, as admission keyed it. */
  readonly ip: string
  /** Frees the handshake slots this connection held. Idempotent. */
  done(): void
}

/**
 * GCRA state for many string keys (rate per key, with bursts), in bounded memory: an entry whose
 * theoretical arrival time has passed carries no information and is swept away.
 */
export class KeyedRate {
  readonly #tat = new Map<string, number>()
  readonly #intervalMs: number
  readonly #toleranceMs: number
  #sweepAt = 1024

  /** Keys limited by `quota` (each key gets `quota.burst` at once, then one per period). */
  constructor(quota: Quota) {
    this.#intervalMs = quota.periodNs / 1e6
    this.#toleranceMs = this.#intervalMs * (quota.burst - 1)
  }

  /** Whether `key` may go at `nowMs`; when it may, one cell is spent. */
  check(key: string, nowMs: number): boolean {
    const tat = Math.max(this.#tat.get(key) ?? nowMs, nowMs)
    if (tat - nowMs > this.#toleranceMs) return false
    this.#tat.set(key, tat + this.#intervalMs)
    if (this.#tat.size >= this.#sweepAt) this.#sweep(nowMs)
    return true
  }

  /** Whether `check` would let `key` go at `nowMs` (nothing is spent). */
  peek(key: string, nowMs: number): boolean {
    const tat = Math.max(this.#tat.get(key) ?? nowMs, nowMs)
    return tat - nowMs <= this.#toleranceMs
  }

  /** Keys with state (those that would not get a full burst right now). */
  get size(): number {
    return this.#tat.size
  }

  #sweep(nowMs: number): void {
    for (const [k, tat] of this.#tat) if (tat <= nowMs) this.#tat.delete(k)
    this.#sweepAt = Math.max(1024, this.#tat.size * 2)
  }
}

/** The IP of `remote` ("host:port"), with IPv4-mapped IPv6 shown as IPv4, and its subnet key. */
export function sourceOf(remote: Address): { ip: string; subnet: string } {
  let host: string
  try {
    host = parseAddress(remote).host
  } catch {
    return { ip: remote, subnet: remote }
  }
  let bytes: Uint8Array
  try {
    bytes = ipBytes(socketAddress(host, 0))
  } catch {
    return { ip: host, subnet: host }
  }
  if (bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) bytes = bytes.subarray(12)
  if (bytes.length === 4) return { ip: bytes.join('.'), subnet: `${bytes[0]}.${bytes[1]}.${bytes[2]}.0/24` }
  const hextets: string[] = []
  for (let i = 0; i < 16; i += 2) hextets.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16))
  return { ip: hextets.join(':'), subnet: `${hextets.slice(0, 3).join(':')}::/48` }
}

/** The listener's admission state: handshakes in progress and rate state per source. */
export class Admission {
  readonly #perIp: KeyedRate
  readonly #perSubnet: KeyedRate
  readonly #global: KeyedRate
  readonly #busy = new Map<string, number>()
  #pending = 0

  /** Admission under `limits`. */
  constructor(private readonly limits: AdmissionLimits) {
    this.#perIp = new KeyedRate(limits.allowedHandshakeRatePerIp)
    this.#perSubnet = new KeyedRate(limits.allowedHandshakeRatePerSubnet)
    this.#global = new KeyedRate(limits.allowedIncomingConnectionRate)
  }

  /** Inbound handshakes in progress. */
  get pending(): number {
    return this.#pending
  }

  /** A ticket for a connection from `remote` accepted at `nowMs`, or why it is refused. */
  admit(remote: Address, nowMs: number): Ticket | AdmissionRefusal {
    if (this.#pending >= this.limits.maxConcurrentHandshakes) return 'handshakes_full'
    const { ip, subnet } = sourceOf(remote)
    const busy = this.#busy.get(ip) ?? 0
    if (busy >= this.limits.maxConcurrentHandshakesPerIp) return 'ip_busy'
    if (!this.#perIp.check(ip, nowMs)) return 'ip_rate'
    if (!this.#perSubnet.check(subnet, nowMs)) return 'subnet_rate'
    if (!this.#global.check('', nowMs)) return 'global_rate'
    this.#pending++
    this.#busy.set(ip, busy + 1)
    let open = true
    return {
      ip,
      done: () => {
        if (!open) return
        open = false
        this.#pending--
        const n = (this.#busy.get(ip) ?? 1) - 1
        if (n === 0) this.#busy.delete(ip)
        else this.#busy.set(ip, n)
      },
    }
  }
}

/**
 * Bandwidth: per-peer egress and ingress limits, shared fairly between concurrent transfers.
 *
 * ## Design
 * A transfer (one message copy from one peer to another) progresses at
 * `min(egress(from) / transfers leaving from, ingress(to) / transfers arriving at to)` bytes per second,
 * recomputed whenever a transfer starts or finishes (equal shares per bottleneck; a transfer limited
 * elsewhere does not give its unused share to the others). Peers without a limit are unlimited; a
 * transfer with no limit on either end completes at once. Time is the runtime's virtual clock, so a
 * 1 MB message over a 1 MB/s link takes one virtual second.
 *
 * ## Not provided
 * Max-min redistribution of unused shares, and TCP effects (slow start, loss recovery).
 *
 * ## Example
 * `bw.setLimit(a, { egressBps: 1e6 }); bw.start(a, b, 1e6, () => deliver())` calls back after 1 s.
 */
import type { Context } from '../runtime/context.js'

/** A peer's bandwidth limits, bytes per second; see `Oracle.setBandwidth`. */
export interface Bandwidth {
  /** Bytes per second this peer can send, over all its transfers (undefined: unlimited). */
  egressBps?: number
  /** Bytes per second this peer can receive (undefined: unlimited). */
  ingressBps?: number
}

interface Transfer {
  from: number
  to: number
  remaining: number
  rate: number
  done: () => void
}

/** Per-peer bandwidth limits and the transfers under way; peers are the network's integer ids. */
export class BandwidthModel {
  readonly #limits = new Map<number, Bandwidth>()
  readonly #active = new Set<Transfer>()
  #last = 0
  #cancel: (() => void) | undefined

  constructor(private readonly ctx: Context) {}

  setLimit(peer: number, limit: Bandwidth): void {
    this.#advance()
    this.#limits.set(peer, limit)
    this.#reschedule()
  }

  /** Whether a transfer from `from` to `to` is limited at all. */
  isLimited(from: number, to: number): boolean {
    if (this.#limits.size === 0) return false
    return this.#limits.get(from)?.egressBps !== undefined || this.#limits.get(to)?.ingressBps !== undefined
  }

  /** Start moving `bytes` from `from` to `to`; `done` runs when the last byte has left. */
  start(from: number, to: number, bytes: number, done: () => void): void {
    this.#advance()
    this.#active.add({ from, to, remaining: bytes, rate: 0, done })
    this.#reschedule()
  }

  /** Account for the bytes moved since the last event. */
  #advance(): void {
    const now = this.ctx.now()
    const dt = (now - this.#last) / 1000
    this.#last = now
    if (dt <= 0) return
    for (const t of this.#active) t.remaining = Math.max(0, t.remaining - t.rate * dt)
  }

  /** Finish what is done, give everyone its share, and wake at the next completion. */
  #reschedule(): void {
    this.#cancel?.()
    this.#cancel = undefined
    for (const t of [...this.#active]) {
      if (t.remaining <= 1e-6) {
        this.#active.delete(t)
        t.done()
      }
    }
    const out = new Map<number, number>()
    const inn = new Map<number, number>()
    for (const t of this.#active) {
      out.set(t.from, (out.get(t.from) ?? 0) + 1)
      inn.set(t.to, (inn.get(t.to) ?? 0) + 1)
    }
    let next = Infinity
    for (const t of this.#active) {
      const e = this.#limits.get(t.from)?.egressBps
      const i = this.#limits.get(t.to)?.ingressBps
      t.rate = Math.min(e === undefined ? Infinity : e / out.get(t.from)!, i === undefined ? Infinity : i / inn.get(t.to)!)
      next = Math.min(next, t.rate === Infinity ? 0 : (t.remaining / t.rate) * 1000)
    }
    if (next === Infinity) return
    let cancelled = false
    this.#cancel = () => (cancelled = true)
    void this.ctx.sleep(Math.max(0, Math.ceil(next - 1e-9))).then(() => {
      if (cancelled) return
      this.#advance()
      this.#reschedule()
    })
  }
}

/**
 * `Requester`: picks which peer to ask next, limited per peer by a rate and ranked by measured response
 * time (the reference's `p2p::utils::requester`, with its exact rules).
 *
 * ## Design
 * Participants carry a priority (milliseconds; lower is better), starting at `initialMs`, and are tried
 * in ascending (priority, key bytes) order, or in a shuffled order to explore. A peer is skipped if it is
 * us, blocked, or over its per-peer GCRA quota (a successful check consumes a cell). A request gets an
 * id (from 0, one per request) and a deadline `now + timeoutMs`. When an answer arrives, `handle(peer,
 * id)` accepts it only from the peer it was sent to; `resolve` then folds the elapsed time into the
 * peer's priority as `(old + elapsed) / 2` (integer division), and `timeout` does the same with the full
 * timeout. Everything runs on the runtime `Context`, so it is deterministic in tests.
 *
 * ## Not provided
 * Sending the requests: the caller does that (over `authenticated` or `simulated`) and reports back.
 *
 * ## Example
 * ```ts
 * const r = new Requester(ctx, { me, rateLimit: Quota.perSecond(1), initialMs: 100, timeoutMs: 5000 })
 * r.reconcile(peers); const next = r.request(false) // { participant, id } or undefined
 * ```
 */
import type { Context } from '../../runtime/context.js'
import { RateLimiter } from '../ratelimit.js'
import type { Quota } from '../quota.js'
import { hexOf } from '../hex.js'

/** Settings of a `Requester`. */
export interface RequesterConfig {
  /** Our own key (never asked). */
  me: Uint8Array
  /** Requests per peer per period. */
  rateLimit: Quota
  /** Priority of a new participant, ms. */
  initialMs: number
  /** How long a request may stay outstanding, ms. */
  timeoutMs: number
}

/** An issued request, as `handle` and `cancel` return it. */
export interface Request {
  /** The request's id, as `request` returned it. */
  id: number
  /** The peer it was sent to. */
  participant: Uint8Array
  /** When it was issued (ctx.now()). */
  start: number
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** Chooses which peer to ask next: rate-limited per peer, ranked by measured response time, with deadlines on outstanding requests. */
export class Requester {
  readonly #me: string
  readonly #participants = new Map<string, { key: Uint8Array; priority: number; id: number }>()
  readonly #excluded = new Set<string>()
  readonly #limits = new RateLimiter()
  readonly #requests = new Map<number, Request & { deadline: number }>()
  #nextId = 0
  #nextKeyId = 1

  /** A requester with no participants, on `ctx`'s clock and randomness. */
  constructor(
    private readonly ctx: Context,
    private readonly cfg: RequesterConfig,
  ) {
    this.#me = hexOf(cfg.me)
    this.#limits.define(0, cfg.rateLimit)
  }

  /** Make `keys` the participants: drop the others, add new ones at `initialMs`, keep known priorities. */
  reconcile(keys: Uint8Array[]): void {
    const wanted = new Set(keys.map(hexOf))
    for (const k of [...this.#participants.keys()]) {
      if (!wanted.has(k)) {
        this.#limits.remove(this.#participants.get(k)!.id)
        this.#participants.delete(k)
      }
    }
    for (const key of keys) {
      const k = hexOf(key)
      if (!this.#participants.has(k)) this.#participants.set(k, { key: Uint8Array.from(key), priority: this.cfg.initialMs, id: this.#nextKeyId++ })
    }
  }

  /** Never ask `key` again. */
  block(key: Uint8Array): void {
    this.#excluded.add(hexOf(key))
  }

  /** The next peer to ask (best first, or a random order if `shuffle`), or undefined if none may be. */
  request(shuffle: boolean):
    | {
        /** The peer to send the request to. */
        participant: Uint8Array
        /** The request's id: pass it to `handle`, `cancel` or match it with `next`. */
        id: number
      }
    | undefined {
    let order = [...this.#participants.entries()].sort(([, a], [, b]) => a.priority - b.priority || compareBytes(a.key, b.key))
    if (shuffle) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = this.ctx.randomInt(i + 1)
        ;[order[i], order[j]] = [order[j]!, order[i]!]
      }
    }
    order = order.filter(([k]) => k !== this.#me && !this.#excluded.has(k))
    for (const [, p] of order) {
      if (this.#limits.check(p.id, 0, this.ctx.now()) !== 0) continue
      const id = this.#nextId++
      const start = this.ctx.now()
      this.#requests.set(id, { id, participant: p.key, start, deadline: start + this.cfg.timeoutMs })
      return { participant: p.key, id }
    }
    return undefined
  }

  /** The outstanding request `id`, if it was sent to `participant`; it is no longer outstanding. */
  handle(participant: Uint8Array, id: number): Request | undefined {
    const r = this.#requests.get(id)
    if (!r || hexOf(r.participant) !== hexOf(participant)) return undefined
    this.#requests.delete(id)
    return { id: r.id, participant: r.participant, start: r.start }
  }

  /** Forget request `id`, whoever it was sent to. */
  cancel(id: number): Request | undefined {
    const r = this.#requests.get(id)
    if (!r) return undefined
    this.#requests.delete(id)
    return { id: r.id, participant: r.participant, start: r.start }
  }

  /** A request was answered: fold its latency into the peer's priority. */
  resolve(request: Request): void {
    this.#update(request.participant, Math.max(0, this.ctx.now() - request.start))
  }

  /** A request timed out: count it as taking the whole timeout. */
  timeout(request: Request): void {
    this.#update(request.participant, this.cfg.timeoutMs)
  }

  #update(key: Uint8Array, elapsedMs: number): void {
    const p = this.#participants.get(hexOf(key))
    if (p) p.priority = Math.floor((p.priority + Math.floor(elapsedMs)) / 2)
  }

  /** The earliest deadline among outstanding requests (ties: the smaller id). */
  next():
    | {
        /** The id of the request. */
        id: number
        /** When it times out, ms on the context's clock. */
        deadline: number
      }
    | undefined {
    let best: { id: number; deadline: number } | undefined
    for (const r of this.#requests.values()) {
      if (!best || r.deadline < best.deadline || (r.deadline === best.deadline && r.id < best.id)) best = { id: r.id, deadline: r.deadline }
    }
    return best
  }

  /** Outstanding requests. */
  get size(): number {
    return this.#requests.size
  }

  /** A participant's current priority (ms), if it is one. */
  priority(key: Uint8Array): number | undefined {
    return this.#participants.get(hexOf(key))?.priority
  }
}

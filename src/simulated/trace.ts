/**
 * The simulated network's event log: a running digest of every event, a bounded trace of the latest
 * ones, an optional sink that sees each event as it happens, and the `simulated_messages` counter.
 *
 * ## Design
 * An event (send, deliver, drop, corrupt, throttle) is a few integers: kind, reason, sender and
 * recipient ids, channel, size and one detail (hold time, flipped bit). `record` writes them into a
 * fixed-size word buffer that is folded into a SHA-256 whenever it fills (one hash call per ~10,000
 * events), preceded by a time word whenever virtual time has moved, so the digest costs no memory per
 * event and is the same whether or not the trace is kept. The trace is a ring of typed arrays holding
 * the last `limit` events; `TraceEvent` objects (with hex keys) are built only when `trace()` is read.
 * Counts per (event, reason) are kept in an array and added to the prom-client counter in one go by
 * `flush()`, which the network calls at the end of each send and each batch of deliveries.
 *
 * ## Not provided
 * The events evicted from the ring: pass a `sink` to see every event of a long run.
 *
 * ## Example
 * `const log = new EventLog(counter, { limit: 1000 }); log.record(now, KIND_SEND, 0, id, -1, 0, 64, 0)`
 */
import { createHash, type Hash } from 'node:crypto'
import type { Counter } from 'prom-client'

/** One entry of the simulated network's trace. */
export interface TraceEvent {
  /** Virtual time of the event, ms. */
  t: number
  /** What happened to the message. */
  event: 'send' | 'deliver' | 'drop' | 'corrupt' | 'throttle'
  /** The sender's public key, hex. */
  from: string
  /** The recipient's public key, hex (absent on `send` events and on drops `superseded`). */
  to?: string
  /** The channel the message was sent on. */
  channel: number
  /** The message's size, bytes. */
  size: number
  /**
   * Why a message was dropped (`lost`, `no_channel`, `too_large`, `blocked`, `partitioned`, `superseded`,
   * `expired`) or how long it was throttled (`held N ms`).
   */
  reason?: string
}

/** What the simulated network keeps of its events; see `SimulatedNetwork.create`. */
export interface TraceOptions {
  /**
   * How many of the latest events `trace()` and `traceLines()` return (a ring: older ones are evicted);
   * 0 keeps none. Default `DEFAULT_TRACE_LIMIT`. The digest covers every event either way.
   */
  limit?: number
  /** Called with every event as it happens (in order, synchronously), whatever the limit. */
  sink?: (e: TraceEvent) => void
}

/** Events the trace keeps unless `trace.limit` says otherwise (about 3 MB when full). */
export const DEFAULT_TRACE_LIMIT = 100_000

export const KIND_SEND = 0
export const KIND_DELIVER = 1
export const KIND_DROP = 2
export const KIND_CORRUPT = 3
export const KIND_THROTTLE = 4
const KINDS = ['send', 'deliver', 'drop', 'corrupt', 'throttle'] as const

export const REASON_NONE = 0
export const REASON_LOST = 1
export const REASON_NO_CHANNEL = 2
export const REASON_TOO_LARGE = 3
export const REASON_BLOCKED = 4
export const REASON_PARTITIONED = 5
export const REASON_SUPERSEDED = 6
export const REASON_EXPIRED = 7
export const REASON_HELD = 8
const REASONS = ['', 'lost', 'no_channel', 'too_large', 'blocked', 'partitioned', 'superseded', 'expired', 'held'] as const

/** Words per record in the digest buffer. */
const WORDS = 7
/** Records per digest flush. */
const BATCH = 10_000
const TIME_MARK = 0xffff_ffff

/** The simulated network's digest, bounded trace, sink and counters. */
export class EventLog {
  readonly #hash: Hash = createHash('sha256')
  readonly #buf = new Uint32Array(WORDS * BATCH)
  #pos = 0
  #lastT = Number.NaN
  #events = 0

  readonly #counts = new Float64Array(KINDS.length * REASONS.length)
  #dirty = false

  readonly #limit: number
  readonly #sink: ((e: TraceEvent) => void) | undefined
  #t = new Float64Array(0)
  #words = new Int32Array(0)
  #head = 0
  #kept = 0
  #cache: TraceEvent[] | undefined

  constructor(
    private readonly counter: Counter<'event' | 'reason'>,
    private readonly hexOf: (id: number) => string,
    opts: TraceOptions,
  ) {
    const limit = opts.limit ?? DEFAULT_TRACE_LIMIT
    if (!(Number.isInteger(limit) && limit >= 0)) throw new RangeError(`trace.limit must be a non-negative integer, got ${limit}`)
    this.#limit = limit
    this.#sink = opts.sink
  }

  /** Events recorded so far (all of them, not only those the trace still holds). */
  get events(): number {
    return this.#events
  }

  /** Fold bytes that identify the run (a peer's key, a sent payload) into the digest, in order. */
  absorb(tag: number, bytes: Uint8Array): void {
    this.#flushDigest()
    const head = new Uint32Array([tag, bytes.length])
    this.#hash.update(new Uint8Array(head.buffer))
    this.#hash.update(bytes)
  }

  /**
   * Record one event at virtual time `t`: `to` is -1 when there is no recipient, `detail` is the
   * hold time of a throttle or the flipped bit of a corruption (0 otherwise).
   */
  record(t: number, kind: number, reason: number, from: number, to: number, channel: number, size: number, detail: number): void {
    this.#events++
    this.#counts[kind * REASONS.length + reason]!++
    this.#dirty = true
    const b = this.#buf
    if (t !== this.#lastT) {
      this.#lastT = t
      if (this.#pos === b.length) this.#flushDigest()
      const p = this.#pos
      b[p] = TIME_MARK
      b[p + 1] = t % 0x1_0000_0000
      b[p + 2] = Math.floor(t / 0x1_0000_0000)
      b[p + 3] = 0
      b[p + 4] = 0
      b[p + 5] = 0
      b[p + 6] = 0
      this.#pos = p + WORDS
    }
    if (this.#pos === b.length) this.#flushDigest()
    const p = this.#pos
    b[p] = kind | (reason << 8)
    b[p + 1] = from
    b[p + 2] = to
    b[p + 3] = channel
    b[p + 4] = size
    b[p + 5] = detail
    b[p + 6] = 0
    this.#pos = p + WORDS
    if (this.#limit > 0) this.#keep(t, kind, reason, from, to, channel, size, detail)
    if (this.#sink) this.#sink(this.#event(t, kind, reason, from, to, channel, size, detail))
  }

  #keep(t: number, kind: number, reason: number, from: number, to: number, channel: number, size: number, detail: number): void {
    this.#cache = undefined
    let i: number
    if (this.#kept < this.#limit) {
      i = this.#kept++
      if (i >= this.#t.length) this.#grow()
    } else {
      i = this.#head
      this.#head = (this.#head + 1) % this.#limit
    }
    this.#t[i] = t
    const w = this.#words
    const p = i * 6
    w[p] = kind | (reason << 8)
    w[p + 1] = from
    w[p + 2] = to
    w[p + 3] = channel
    w[p + 4] = size
    w[p + 5] = detail
  }

  #grow(): void {
    const n = Math.min(this.#limit, Math.max(1024, this.#t.length * 2))
    const t = new Float64Array(n)
    t.set(this.#t)
    const w = new Int32Array(n * 6)
    w.set(this.#words)
    this.#t = t
    this.#words = w
  }

  #event(t: number, kind: number, reason: number, from: number, to: number, channel: number, size: number, detail: number): TraceEvent {
    const e: TraceEvent = { t, event: KINDS[kind]!, from: this.hexOf(from), channel: channel >>> 0, size: size >>> 0 }
    if (to >= 0) e.to = this.hexOf(to)
    if (reason === REASON_HELD) e.reason = `held ${detail >>> 0} ms`
    else if (reason !== REASON_NONE) e.reason = REASONS[reason]
    return e
  }

  /** The events the trace holds, oldest first. */
  trace(): readonly TraceEvent[] {
    if (this.#cache) return this.#cache
    const out: TraceEvent[] = []
    const w = this.#words
    for (let k = 0; k < this.#kept; k++) {
      const i = (this.#head + k) % Math.max(1, this.#kept)
      const p = i * 6
      out.push(this.#event(this.#t[i]!, w[p]! & 0xff, w[p]! >>> 8, w[p + 1]!, w[p + 2]!, w[p + 3]!, w[p + 4]!, w[p + 5]!))
    }
    this.#cache = out
    return out
  }

  /** Add the counts since the last flush to the `simulated_messages` counter. */
  flush(): void {
    if (!this.#dirty) return
    this.#dirty = false
    const c = this.#counts
    for (let i = 0; i < c.length; i++) {
      if (c[i] === 0) continue
      this.counter.inc({ event: KINDS[Math.floor(i / REASONS.length)]!, reason: REASONS[i % REASONS.length]! }, c[i])
      c[i] = 0
    }
  }

  #flushDigest(): void {
    if (this.#pos === 0) return
    this.#hash.update(new Uint8Array(this.#buf.buffer, 0, this.#pos * 4))
    this.#pos = 0
  }

  /** SHA-256 (hex) of every event and absorbed byte string so far; recording may continue. */
  digest(): string {
    this.#flushDigest()
    return this.#hash.copy().digest('hex')
  }
}

/**
 * `simulated`: the authenticated network's `Sender`/`Receiver` API over a simulated network of
 * one-way links, for testing protocols in virtual time (commonware-p2p 0.0.25's `simulated`, extended).
 *
 * ## Design
 * Peers register (key, channel, max size) with the `Oracle` and get a `Sender`/`Receiver` pair. A
 * message goes to each recipient over the link origin -> recipient, if one exists: its delay is drawn
 * from Normal(latencyMs, jitterMs) (negative becomes 0, fractions truncated) and it is delivered with
 * probability `successRate`, all from the context's randomness, so a seeded runtime replays exactly.
 * As in the reference, a recipient is listed in `send`'s result even if the message is then lost
 * (success roll, missing channel, or over the recipient's max size), and messages may overtake each
 * other. Beyond the reference, each off by default: `corruptRate` (flip one bit of the delivered copy),
 * `ordered` (per-link FIFO, like a TCP connection), `oracle.partition(groups)`/`heal()` and
 * `oracle.block(a, b)` (no delivery across; such recipients are not listed), per-channel inbound quotas
 * (`register(..., quota)`: deliveries held, never dropped), per-peer egress/ingress bandwidth shared
 * fairly between concurrent transfers (`setBandwidth`). Every send, delivery, drop (with its reason),
 * throttle and corruption is folded into a running digest (`digest()`), kept in a bounded trace of the
 * latest events (`trace()`, `traceLines()`: JSON lines with virtual timestamps) and passed to an
 * optional sink; see `trace.ts`.
 * Priority: messages a sender queued at the same moment go out high-priority first. Send options
 * (`key`, `ttlMs`) apply where this model has a wait: see `SimSender`.
 *
 * Scale: every key gets an integer id when the network first sees it, and links, blocks and partitions
 * are looked up by id. A send copies the message once and every recipient gets that copy (a corrupted
 * delivery gets its own); the sender's key in a received pair and the keys `send` returns are one
 * shared copy per peer. Deliveries due at the same virtual time wait in one batch behind one timer of
 * the runtime, so memory grows with the messages in flight, not with those delivered.
 *
 * ## Not provided
 * Real sockets: use `authenticated` for those. Private copies: received messages and returned keys
 * are shared between recipients and calls, so treat them as read-only.
 *
 * ## Example
 * ```ts
 * const { network, oracle } = SimulatedNetwork.create(ctx, { trace: { limit: 0 } })
 * const [tx] = oracle.register(a, 0, 1024); const [, rx] = oracle.register(b, 0, 1024)
 * oracle.addLink(a, b, { latencyMs: 50, jitterMs: 10, successRate: 0.9 })
 * await tx.send(Recipients.all(), msg); await rx.recv(); network.digest()
 * ```
 */
import { MessageTooLargeError, ClosedError, SimulationError } from '../errors.js'
import { Counter, type Registry } from 'prom-client'
import type { Context } from '../runtime/context.js'
import type { Quota } from '../utils/quota.js'
import { RateLimiter } from '../utils/ratelimit.js'
import { BandwidthModel, type Bandwidth } from './bandwidth.js'
import {
  EventLog,
  KIND_CORRUPT,
  KIND_DELIVER,
  KIND_DROP,
  KIND_SEND,
  KIND_THROTTLE,
  REASON_BLOCKED,
  REASON_EXPIRED,
  REASON_HELD,
  REASON_LOST,
  REASON_NONE,
  REASON_NO_CHANNEL,
  REASON_PARTITIONED,
  REASON_SUPERSEDED,
  REASON_TOO_LARGE,
  type TraceEvent,
  type TraceOptions,
} from './trace.js'
import { receiveAll, sendOptions, type Channel, type Receiver, type Recipients, type Sender, type SendOptions, type SendOutcome } from '../authenticated/types.js'
import { hexOf } from '../utils/hex.js'

export { DEFAULT_TRACE_LIMIT, type TraceEvent, type TraceOptions } from './trace.js'

/** A one-way link between two simulated peers. */
export interface Link {
  /** Mean delay of a message, ms. */
  latencyMs: number
  /** Standard deviation of the delay, ms: the delay is drawn from Normal(latencyMs, jitterMs), truncated to whole ms, never below 0. */
  jitterMs: number
  /** Probability in [0, 1] that a message is delivered. */
  successRate: number
  /** Probability in [0, 1] that a delivered copy has one bit flipped (default 0). */
  corruptRate?: number
  /** Deliver in send order on this link, like a TCP connection (default false, as the reference). */
  ordered?: boolean
}

/** A link's settings as stored: one frozen object shared by every link set with the same values. */
interface LinkParams {
  readonly latencyMs: number
  readonly jitterMs: number
  readonly successRate: number
  readonly corruptRate: number
  readonly ordered: boolean
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
/** Pair keys `from * PAIR + to` stay exact doubles for up to 2^26 peers. */
const PAIR = 2 ** 26
const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))
/** Digest tags of absorbed byte strings. */
const TAG_PEER = 1
const TAG_PAYLOAD = 2

type Item = [Uint8Array, Uint8Array]

class Inbox implements Receiver {
  #items: Item[] = []
  #head = 0
  readonly #readers: { resolve: (i: Item) => void; reject: (e: unknown) => void }[] = []
  #closed = false

  push(item: Item): void {
    if (this.#closed) return
    const r = this.#readers.shift()
    if (r) r.resolve(item)
    else this.#items.push(item)
  }

  recv(): Promise<Item> {
    if (this.#head < this.#items.length) {
      const item = this.#items[this.#head]!
      this.#items[this.#head++] = undefined as unknown as Item
      if (this.#head === this.#items.length) {
        this.#items = []
        this.#head = 0
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
        this.#items = this.#items.slice(this.#head)
        this.#head = 0
      }
      return Promise.resolve(item)
    }
    if (this.#closed) return Promise.reject(new ClosedError('peer closed'))
    return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }))
  }

  [Symbol.asyncIterator](): AsyncIterator<Item> {
    return receiveAll(() => this.recv())
  }

  close(): void {
    this.#closed = true
    for (const r of this.#readers.splice(0)) r.reject(new ClosedError('peer closed'))
  }
}

interface Registration {
  maxSize: number
  inbox: Inbox
  /** Inbound quota per sending peer, as the authenticated network applies (throttle, never drop). */
  limits?: RateLimiter
  /** When the last throttled delivery from each sender (by id) is due (throttling keeps their order). */
  nextFree?: Map<number, number>
}

/**
 * Deliveries due at one virtual time, in the order they were scheduled: four numbers each in `words`
 * (sender id, recipient id, channel, flipped bit or -1) and the message in `msgs`.
 */
interface Batch {
  words: number[]
  msgs: Uint8Array[]
}

/** A simulated network in virtual time; create one with `SimulatedNetwork.create` and shape it through its `Oracle`. */
export class SimulatedNetwork {
  /** Peer ids: every key the network has seen gets the next integer, for the life of the network. */
  readonly #idByHex = new Map<string, number>()
  readonly #idByRef = new WeakMap<Uint8Array, number>()
  /** id -> the key (the network's own copy, never handed out). */
  readonly #keys: Uint8Array[] = []
  /** id -> a copy of the key that is handed out (send results, received `from`), shared by all of them. */
  readonly #shared: Uint8Array[] = []
  readonly #hex: string[] = []
  /** id -> channel -> registration (undefined: not registered). */
  readonly #channels: (Map<number, Registration> | undefined)[] = []
  /** Registered ids in ascending key order (the order of `Recipients.all()`), rebuilt when it changes. */
  #sorted: number[] | undefined
  /** origin id -> recipient id -> link. */
  readonly #links: (Map<number, LinkParams> | undefined)[] = []
  #lastParams: LinkParams | undefined
  /** Pair key -> the latest delivery time on an ordered link. */
  readonly #lastAt = new Map<number, number>()
  /** Pair keys cut by `block`. */
  readonly #blocked = new Set<number>()
  #groups: Map<number, number> | undefined
  /** Delivery batches by due time. */
  readonly #due = new Map<number, Batch>()
  #rng: Uint32Array | undefined
  #spare = Number.NaN
  readonly #bandwidth: BandwidthModel
  readonly #log: EventLog
  /** The oracle of this network (the one `create` returns). */
  readonly oracle: Oracle

  private constructor(
    private readonly ctx: Context,
    registry: Registry,
    trace: TraceOptions,
  ) {
    this.oracle = new Oracle(this)
    this.#bandwidth = new BandwidthModel(ctx)
    const counter =
      (registry.getSingleMetric('simulated_messages') as Counter<'event' | 'reason'> | undefined) ??
      new Counter({ name: 'simulated_messages', help: 'simulated sends, deliveries, drops (by reason), throttles and corruptions', labelNames: ['event', 'reason'], registers: [registry] })
    this.#log = new EventLog(counter, (id) => this.#hex[id]!, trace)
  }

  /**
   * A network on `ctx`'s clock and randomness; the `simulated_messages` counter goes to `opts.registry`
   * (default: the context's). The trace keeps the latest `DEFAULT_TRACE_LIMIT` events unless
   * `opts.trace` says otherwise; the digest covers every event either way.
   */
  static create(
    ctx: Context,
    opts: {
      /** Where the `simulated_messages` counter is registered (default: `ctx.registry`). */
      registry?: Registry
      /** How many events the trace keeps (`limit`, 0 for none) and a `sink` that sees every event. */
      trace?: TraceOptions
    } = {},
  ): {
    /** The network: read its trace and digest here. */
    network: SimulatedNetwork
    /** The oracle: register peers, add links, inject faults. */
    oracle: Oracle
  } {
    const network = new SimulatedNetwork(ctx, opts.registry ?? ctx.registry, opts.trace ?? {})
    return { network, oracle: network.oracle }
  }

  /** The latest events (send, delivery, drop, throttle, corruption), oldest first: at most the trace limit. */
  trace(): readonly TraceEvent[] {
    return this.#log.trace()
  }

  /** The events `trace()` returns, as JSON lines. */
  traceLines(): string {
    return this.#log
      .trace()
      .map((e) => JSON.stringify(e))
      .join('\n')
  }

  /**
   * SHA-256 (hex) of every event so far (including those the trace no longer holds), of each peer's key
   * and of every sent payload, folded in as they happen: the same seed and code give the same digest,
   * whatever the trace keeps.
   */
  digest(): string {
    return this.#log.digest()
  }

  /** Number of events so far (sends, deliveries, drops, throttles, corruptions), kept in the trace or not. */
  get events(): number {
    return this.#log.events
  }

  /** The id of `key`, given one if it has none (and its key folded into the digest). */
  #id(key: Uint8Array): number {
    const known = this.#lookup(key)
    if (known >= 0) return known
    const hex = hexOf(key)
    const id = this.#keys.length
    if (id >= PAIR) throw new SimulationError('InvalidBehavior', `more than ${PAIR} peers`)
    this.#idByHex.set(hex, id)
    this.#keys.push(Uint8Array.from(key))
    this.#shared.push(Uint8Array.from(key))
    this.#hex.push(hex)
    this.#channels.push(undefined)
    this.#links.push(undefined)
    this.#idByRef.set(key, id)
    this.#log.absorb(TAG_PEER, key)
    return id
  }

  /** The id of `key`, or -1 if the network has never seen it. */
  #lookup(key: Uint8Array): number {
    const byRef = this.#idByRef.get(key)
    if (byRef !== undefined && sameBytes(this.#keys[byRef]!, key)) return byRef
    const id = this.#idByHex.get(hexOf(key))
    if (id === undefined) return -1
    this.#idByRef.set(key, id)
    return id
  }

  /** @internal */
  setBandwidth(key: Uint8Array, limit: Bandwidth): void {
    this.#bandwidth.setLimit(this.#id(key), limit)
  }

  /** @internal */
  registerPeer(key: Uint8Array, channel: Channel, maxSize: number, quota?: Quota): [Sender, Receiver] {
    const id = this.#id(key)
    let channels = this.#channels[id]
    if (!channels) {
      this.#channels[id] = channels = new Map()
      this.#sorted = undefined
    }
    if (channels.has(channel)) throw new SimulationError('ChannelAlreadyRegistered', `channel ${channel} of ${this.#hex[id]!.slice(0, 16)}`)
    const reg: Registration = { maxSize, inbox: new Inbox() }
    if (quota) {
      reg.limits = new RateLimiter()
      reg.limits.define(0, quota)
      reg.nextFree = new Map()
    }
    channels.set(channel, reg)
    return [new SimSender(this, id, channel, maxSize), reg.inbox]
  }

  /** @internal */
  deregisterPeer(key: Uint8Array): void {
    const id = this.#lookup(key)
    const channels = id >= 0 ? this.#channels[id] : undefined
    if (!channels) throw new SimulationError('PeerMissing', hexOf(key).slice(0, 16))
    for (const reg of channels.values()) reg.inbox.close()
    this.#channels[id] = undefined
    this.#sorted = undefined
  }

  /** @internal */
  setLink(a: Uint8Array, b: Uint8Array, link: Link): void {
    if (a === b || sameBytes(a, b)) throw new SimulationError('LinkingSelf', 'a link needs two peers')
    const corruptRate = link.corruptRate ?? 0
    if (!(link.successRate >= 0 && link.successRate <= 1)) throw new SimulationError('InvalidSuccessRate', `successRate ${link.successRate} outside [0, 1]`)
    if (!(corruptRate >= 0 && corruptRate <= 1)) throw new SimulationError('InvalidSuccessRate', `corruptRate ${corruptRate} outside [0, 1]`)
    if (!(link.latencyMs >= 0) || !(link.jitterMs >= 0) || !Number.isFinite(link.latencyMs) || !Number.isFinite(link.jitterMs)) {
      throw new SimulationError('InvalidBehavior', `latency ${link.latencyMs}, jitter ${link.jitterMs}`)
    }
    const from = this.#id(a)
    const to = this.#id(b)
    let p = this.#lastParams
    const ordered = link.ordered === true
    if (!p || p.latencyMs !== link.latencyMs || p.jitterMs !== link.jitterMs || p.successRate !== link.successRate || p.corruptRate !== corruptRate || p.ordered !== ordered) {
      p = this.#lastParams = Object.freeze({ latencyMs: link.latencyMs, jitterMs: link.jitterMs, successRate: link.successRate, corruptRate, ordered })
    }
    let out = this.#links[from]
    if (!out) this.#links[from] = out = new Map()
    out.set(to, p)
    if (this.#lastAt.size > 0) this.#lastAt.delete(from * PAIR + to)
  }

  /** @internal */
  removeLink(a: Uint8Array, b: Uint8Array): void {
    const from = this.#lookup(a)
    const to = this.#lookup(b)
    if (from < 0 || to < 0 || !this.#links[from]?.delete(to)) throw new SimulationError('LinkMissing', 'no such link')
    this.#lastAt.delete(from * PAIR + to)
  }

  /** @internal */
  setPartition(groups: Uint8Array[][] | undefined): void {
    this.#groups = groups ? new Map(groups.flatMap((g, i) => g.map((k) => [this.#id(k), i] as [number, number]))) : undefined
  }

  /** @internal */
  setBlocked(a: Uint8Array, b: Uint8Array, blocked: boolean): void {
    const x = this.#id(a)
    const y = this.#id(b)
    for (const key of [x * PAIR + y, y * PAIR + x]) {
      if (blocked) this.#blocked.add(key)
      else this.#blocked.delete(key)
    }
  }

  /** Why nothing passes from `from` to `to` now (`REASON_NONE`: it does). */
  #cut(from: number, to: number): number {
    if (this.#blocked.size > 0 && this.#blocked.has(from * PAIR + to)) return REASON_BLOCKED
    const g = this.#groups
    if (g && g.get(from) !== g.get(to)) return REASON_PARTITIONED
    return REASON_NONE
  }

  /**
   * A uniform 32-bit draw: xoshiro128** seeded with 16 bytes of the context's randomness on first use,
   * so the draws are a function of the runtime's seed at a few ns each.
   */
  #u32(): number {
    const s = this.#rng ?? this.#seedRng()
    const r = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9)
    const t = s[1]! << 9
    s[2]! ^= s[0]!
    s[3]! ^= s[1]!
    s[1]! ^= s[2]!
    s[0]! ^= s[3]!
    s[2]! ^= t
    s[3] = rotl(s[3]!, 11)
    return r >>> 0
  }

  #seedRng(): Uint32Array {
    const b = this.ctx.randomBytes(16)
    const s = new Uint32Array(4)
    for (let i = 0; i < 4; i++) s[i] = (b[4 * i]! | (b[4 * i + 1]! << 8) | (b[4 * i + 2]! << 16) | (b[4 * i + 3]! << 24)) >>> 0
    if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1
    return (this.#rng = s)
  }

  /** Uniform in [0, n), n <= 2^32, by rejection. */
  #below(n: number): number {
    const limit = 2 ** 32 - (2 ** 32 % n)
    for (;;) {
      const v = this.#u32()
      if (v < limit) return v % n
    }
  }

  /** Normal(mean, sd) by Box-Muller; each pair of uniform draws gives two values. */
  #normal(mean: number, sd: number): number {
    if (sd === 0) return mean
    let z = this.#spare
    if (Number.isNaN(z)) {
      const r = Math.sqrt(-2 * Math.log((this.#u32() + 1) / 2 ** 32))
      const a = (2 * Math.PI * this.#u32()) / 2 ** 32
      z = r * Math.cos(a)
      this.#spare = r * Math.sin(a)
    } else {
      this.#spare = Number.NaN
    }
    return mean + sd * z
  }

  #chance(p: number): boolean {
    if (p <= 0) return false
    if (p >= 1) return true
    return this.#u32() < p * 2 ** 32
  }

  /** Registered ids in ascending key order. */
  #all(): number[] {
    if (!this.#sorted) {
      const ids: number[] = []
      for (let id = 0; id < this.#channels.length; id++) if (this.#channels[id]) ids.push(id)
      const hex = this.#hex
      this.#sorted = ids.sort((x, y) => (hex[x]! < hex[y]! ? -1 : hex[x]! > hex[y]! ? 1 : 0))
    }
    return this.#sorted
  }

  /** @internal A send replaced by a newer one of the same key before it was routed (traced as a drop). */
  superseded(from: number, channel: Channel, size: number): void {
    this.#log.record(this.ctx.now(), KIND_DROP, REASON_SUPERSEDED, from, -1, channel, size, 0)
    this.#log.flush()
  }

  /**
   * @internal Route one message from the peer with id `from`; returns the keys it was sent to. Every
   * recipient gets the same copy of `message` (unless a bit of it is flipped). With `ttlMs`, a copy
   * whose bandwidth-limited transfer ends more than `ttlMs` after now is dropped (`expired`).
   */
  route(from: number, channel: Channel, recipients: Recipients, message: Uint8Array, ttlMs?: number): Uint8Array[] {
    const now = this.ctx.now()
    const log = this.#log
    const size = message.length
    log.record(now, KIND_SEND, REASON_NONE, from, -1, channel, size, 0)
    log.absorb(TAG_PAYLOAD, message)
    const ids =
      recipients.kind === 'all' ? this.#all() : recipients.kind === 'one' ? [this.#lookup(recipients.key)] : recipients.keys.map((k) => this.#lookup(k))
    const links = this.#links[from]
    const sent: Uint8Array[] = []
    if (!links) return (log.flush(), sent)
    const cuts = this.#blocked.size > 0 || this.#groups !== undefined
    let copy: Uint8Array | undefined
    for (let i = 0; i < ids.length; i++) {
      const to = ids[i]!
      if (to < 0 || to === from || !this.#channels[to]) continue
      const link = links.get(to)
      if (!link || (cuts && this.#cut(from, to) !== REASON_NONE)) continue
      sent.push(this.#shared[to]!)
      if (!this.#chance(link.successRate)) {
        log.record(now, KIND_DROP, REASON_LOST, from, to, channel, size, 0)
        continue
      }
      const latency = Math.max(0, Math.trunc(this.#normal(link.latencyMs, link.jitterMs)))
      let msg = (copy ??= Uint8Array.from(message))
      let bit = -1
      if (this.#chance(link.corruptRate) && size > 0) {
        bit = this.#below(size * 8)
        msg = Uint8Array.from(msg)
        msg[bit >> 3]! ^= 1 << (bit & 7)
      }
      // Transmission (bandwidth), then propagation (latency); ordered links never overtake.
      if (this.#bandwidth.isLimited(from, to)) {
        const m = msg
        const b = bit
        this.#bandwidth.start(from, to, size, () => {
          const t = this.ctx.now()
          if (ttlMs !== undefined && t - now > ttlMs) log.record(t, KIND_DROP, REASON_EXPIRED, from, to, channel, size, 0)
          else this.#schedule(t + latency, link.ordered, from, to, channel, m, b)
          log.flush()
        })
      } else {
        this.#schedule(now + latency, link.ordered, from, to, channel, msg, bit)
      }
    }
    log.flush()
    return sent
  }

  /** Queue a delivery for virtual time `at` (later, on an ordered link, if one is already due after it). */
  #schedule(at: number, ordered: boolean, from: number, to: number, channel: number, msg: Uint8Array, bit: number): void {
    if (ordered) {
      const pair = from * PAIR + to
      at = Math.max(at, this.#lastAt.get(pair) ?? 0)
      this.#lastAt.set(pair, at)
    }
    let batch = this.#due.get(at)
    if (!batch) {
      const b: Batch = (batch = { words: [], msgs: [] })
      this.#due.set(at, b)
      void this.ctx.sleep(at - this.ctx.now()).then(() => this.#fire(at, b))
    }
    batch.words.push(from, to, channel, bit)
    batch.msgs.push(msg)
  }

  /** Deliver a batch, in the order its deliveries were scheduled. */
  #fire(at: number, batch: Batch): void {
    if (this.#due.get(at) === batch) this.#due.delete(at)
    const t = this.ctx.now()
    const w = batch.words
    const msgs = batch.msgs
    for (let j = 0; j < msgs.length; j++) this.#deliver(t, w[4 * j]!, w[4 * j + 1]!, w[4 * j + 2]!, msgs[j]!, w[4 * j + 3]!)
    this.#log.flush()
  }

  #deliver(t: number, from: number, to: number, channel: Channel, msg: Uint8Array, bit: number): void {
    const log = this.#log
    const size = msg.length
    const reg = this.#channels[to]?.get(channel)
    const reason = !reg
      ? REASON_NO_CHANNEL
      : size > reg.maxSize
        ? REASON_TOO_LARGE
        : this.#blocked.size > 0 || this.#groups !== undefined
          ? this.#cut(from, to)
          : REASON_NONE
    if (reason !== REASON_NONE || !reg) {
      log.record(t, KIND_DROP, reason, from, to, channel, size, 0)
      return
    }
    if (bit >= 0) log.record(t, KIND_CORRUPT, REASON_NONE, from, to, channel, size, bit)
    if (reg.limits) {
      const wait = this.#throttle(reg, from, t)
      if (wait > 0) {
        log.record(t, KIND_THROTTLE, REASON_HELD, from, to, channel, size, wait)
        void this.ctx.sleep(wait).then(() => {
          log.record(this.ctx.now(), KIND_DELIVER, REASON_NONE, from, to, channel, size, 0)
          log.flush()
          reg.inbox.push([this.#shared[from]!, msg])
        })
        return
      }
    }
    log.record(t, KIND_DELIVER, REASON_NONE, from, to, channel, size, 0)
    reg.inbox.push([this.#shared[from]!, msg])
  }

  /** Milliseconds to hold a delivery from `from` under the recipient channel's quota (0: deliver now). */
  #throttle(reg: Registration, from: number, t: number): number {
    if (!reg.limits || !reg.nextFree) return 0
    // Deliveries held for this sender go first; a new one queues behind them.
    let at = Math.max(t, reg.nextFree.get(from) ?? 0)
    for (let w = reg.limits.check(from + 1, 0, at); w > 0; w = reg.limits.check(from + 1, 0, at)) at += Math.ceil(w)
    reg.nextFree.set(from, at)
    return at - t
  }
}

/** Registers peers and shapes the simulated network. */
export class Oracle {
  /** An oracle for `net` (`SimulatedNetwork.create` already returns `net.oracle`). */
  constructor(private readonly net: SimulatedNetwork) {}

  /**
   * A `Sender`/`Receiver` for `key` on `channel`; `ChannelAlreadyRegistered` if it exists. With a
   * `quota`, deliveries from each sending peer are throttled to it (held, never dropped), as the
   * authenticated network does.
   */
  register(key: Uint8Array, channel: Channel, maxSize: number, quota?: Quota): [Sender, Receiver] {
    return this.net.registerPeer(key, channel, maxSize, quota)
  }

  /** Remove every channel of `key`; its receivers end (`ClosedError`). `PeerMissing` if unknown. */
  deregister(key: Uint8Array): void {
    this.net.deregisterPeer(key)
  }

  /** Add or replace the one-way link `a -> b`. */
  addLink(a: Uint8Array, b: Uint8Array, link: Link): void {
    this.net.setLink(a, b, link)
  }

  /** Remove the one-way link `a -> b`; throws `SimulationError` (`LinkMissing`) if there is none. */
  removeLink(a: Uint8Array, b: Uint8Array): void {
    this.net.removeLink(a, b)
  }

  /** Only peers in the same group can reach each other until `heal()`. */
  partition(groups: Uint8Array[][]): void {
    this.net.setPartition(groups)
  }

  /** End the partition: every peer can reach every other again (pairs blocked with `block` stay blocked). */
  heal(): void {
    this.net.setPartition(undefined)
  }

  /** Limit `key`'s egress and/or ingress (bytes per second), shared fairly between its transfers. */
  setBandwidth(key: Uint8Array, limit: Bandwidth): void {
    this.net.setBandwidth(key, limit)
  }

  /** No delivery between `a` and `b`, either way, until `unblock`. */
  block(a: Uint8Array, b: Uint8Array): void {
    this.net.setBlocked(a, b, true)
  }

  /** Allow delivery between `a` and `b` again, both ways. */
  unblock(a: Uint8Array, b: Uint8Array): void {
    this.net.setBlocked(a, b, false)
  }
}

/** A send waiting for the end of the turn: routes it, or settles it as replaced by a newer one. */
interface Pending {
  run: () => void
  supersede: () => void
  key: string | undefined
}

/**
 * The simulated network's `Sender`. `SendOptions` mean here what they can with no per-peer queue:
 * `priority` orders the sends of one turn; `key` makes a later `send` of the same turn with the same
 * key replace an earlier one, which resolves with no recipients and is traced as a drop `superseded`
 * (`trySend` routes at once, so it has nothing to replace); `ttlMs` drops a copy whose transfer under a
 * `setBandwidth` limit ends more than `ttlMs` after the send (traced as a drop `expired`), the one
 * wait before a message is on a link; latency is propagation and never expires a message.
 */
class SimSender implements Sender {
  readonly #high: Pending[] = []
  readonly #low: Pending[] = []
  #scheduled = false

  constructor(
    private readonly net: SimulatedNetwork,
    private readonly me: number,
    private readonly channel: Channel,
    private readonly maxSize: number,
  ) {}

  /** Routes at once: links have no queue that can fill, so every reachable recipient is `queued`. */
  trySend(recipients: Recipients, message: Uint8Array, options?: boolean | SendOptions): SendOutcome {
    if (message.length > this.maxSize) throw new MessageTooLargeError(message.length, this.maxSize)
    const { ttlMs } = sendOptions(options)
    return { queued: this.net.route(this.me, this.channel, recipients, message, ttlMs), full: [], stalled: [] }
  }

  send(recipients: Recipients, message: Uint8Array, options?: boolean | SendOptions): Promise<Uint8Array[]> {
    if (message.length > this.maxSize) return Promise.reject(new MessageTooLargeError(message.length, this.maxSize))
    let o: ReturnType<typeof sendOptions>
    try {
      o = sendOptions(options)
    } catch (e) {
      return Promise.reject(e)
    }
    return new Promise((resolve) => {
      const pending: Pending = {
        run: () => resolve(this.net.route(this.me, this.channel, recipients, message, o.ttlMs)),
        supersede: () => {
          this.net.superseded(this.me, this.channel, message.length)
          resolve([])
        },
        key: o.key,
      }
      if (o.key !== undefined) {
        for (const q of [this.#high, this.#low]) {
          const i = q.findIndex((p) => p.key === o.key)
          if (i >= 0) q.splice(i, 1)[0]!.supersede()
        }
      }
      ;(o.priority ? this.#high : this.#low).push(pending)
      if (!this.#scheduled) {
        this.#scheduled = true
        // Everything this sender queued in the same turn goes out high-priority first.
        queueMicrotask(() => {
          this.#scheduled = false
          for (const p of [...this.#high.splice(0), ...this.#low.splice(0)]) p.run()
        })
      }
    })
  }
}

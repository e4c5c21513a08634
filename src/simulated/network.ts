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
 * fairly between concurrent transfers (`setBandwidth`), and a trace of every send,
 * delivery, drop (with its reason) and corruption as JSON lines with virtual timestamps.
 * Priority: messages a sender queued at the same moment go out high-priority first. Send options
 * (`key`, `ttlMs`) apply where this model has a wait: see `SimSender`.
 *
 * ## Not provided
 * Real sockets: use `authenticated` for those.
 *
 * ## Example
 * ```ts
 * const { oracle } = SimulatedNetwork.create(ctx)
 * const [tx] = oracle.register(a, 0, 1024); const [, rx] = oracle.register(b, 0, 1024)
 * oracle.addLink(a, b, { latencyMs: 50, jitterMs: 10, successRate: 0.9 })
 * ```
 */
import { MessageTooLargeError, ClosedError, SimulationError } from '../errors.js'
import { Counter, type Registry } from 'prom-client'
import type { Context } from '../runtime/context.js'
import type { Quota } from '../utils/quota.js'
import { RateLimiter } from '../utils/ratelimit.js'
import { BandwidthModel, type Bandwidth } from './bandwidth.js'
import { receiveAll, sendOptions, type Channel, type Receiver, type Recipients, type Sender, type SendOptions, type SendOutcome } from '../authenticated/types.js'

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

/** One entry of the simulated network's trace. */
export interface TraceEvent {
  /** Virtual time of the event, ms. */
  t: number
  /** What happened to the message. */
  event: 'send' | 'deliver' | 'drop' | 'corrupt' | 'throttle'
  /** The sender's public key, hex. */
  from: string
  /** The recipient's public key, hex (absent on `send` events). */
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

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex')
type Item = [Uint8Array, Uint8Array]

class Inbox implements Receiver {
  readonly #items: Item[] = []
  readonly #readers: { resolve: (i: Item) => void; reject: (e: unknown) => void }[] = []
  #closed = false

  push(item: Item): void {
    if (this.#closed) return
    const r = this.#readers.shift()
    if (r) r.resolve(item)
    else this.#items.push(item)
  }

  recv(): Promise<Item> {
    const item = this.#items.shift()
    if (item) return Promise.resolve(item)
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
  key: Uint8Array
  maxSize: number
  inbox: Inbox
  /** Inbound quota per sending peer, as the authenticated network applies (throttle, never drop). */
  limits?: RateLimiter
  /** When the last throttled delivery from each sender is due (throttling keeps their order). */
  nextFree?: Map<string, number>
}

/** A simulated network in virtual time; create one with `SimulatedNetwork.create` and shape it through its `Oracle`. */
export class SimulatedNetwork {
  /** key hex -> channel -> registration */
  readonly #peers = new Map<string, Map<number, Registration>>()
  readonly #links = new Map<string, Link & { lastAt: number }>()
  readonly #blocked = new Set<string>()
  #groups: Map<string, number> | undefined
  readonly #trace: TraceEvent[] = []
  readonly #bandwidth: BandwidthModel
  readonly #events: Counter<'event' | 'reason'>
  /** The oracle of this network (the one `create` returns). */
  readonly oracle: Oracle

  private constructor(
    private readonly ctx: Context,
    registry: Registry,
  ) {
    this.oracle = new Oracle(this)
    this.#bandwidth = new BandwidthModel(ctx)
    this.#events =
      (registry.getSingleMetric('simulated_messages') as Counter<'event' | 'reason'> | undefined) ??
      new Counter({ name: 'simulated_messages', help: 'simulated sends, deliveries, drops (by reason), throttles and corruptions', labelNames: ['event', 'reason'], registers: [registry] })
  }

  #record(e: TraceEvent): void {
    this.#trace.push(e)
    this.#events.inc({ event: e.event, reason: e.reason?.replace(/ .*/, '') ?? '' })
  }

  /** @internal */
  setBandwidth(key: Uint8Array, limit: Bandwidth): void {
    this.#bandwidth.setLimit(hexOf(key), limit)
  }

  /** A network on `ctx`'s clock and randomness; the `simulated_messages` counter goes to `opts.registry` (default: the context's). */
  static create(
    ctx: Context,
    opts: {
      /** Where the `simulated_messages` counter is registered (default: `ctx.registry`). */
      registry?: Registry
    } = {},
  ): {
    /** The network: read its trace here. */
    network: SimulatedNetwork
    /** The oracle: register peers, add links, inject faults. */
    oracle: Oracle
  } {
    const network = new SimulatedNetwork(ctx, opts.registry ?? ctx.registry)
    return { network, oracle: network.oracle }
  }

  /** Every send, delivery, drop and corruption so far. */
  trace(): readonly TraceEvent[] {
    return this.#trace
  }

  /** The trace as JSON lines. */
  traceLines(): string {
    return this.#trace.map((e) => JSON.stringify(e)).join('\n')
  }

  readonly #senderIds = new Map<string, number>()

  /** @internal */
  registerPeer(key: Uint8Array, channel: Channel, maxSize: number, quota?: Quota): [Sender, Receiver] {
    const k = hexOf(key)
    let channels = this.#peers.get(k)
    if (!channels) this.#peers.set(k, (channels = new Map()))
    if (channels.has(channel)) throw new SimulationError('ChannelAlreadyRegistered', `channel ${channel} of ${k.slice(0, 16)}`)
    const reg: Registration = { key: Uint8Array.from(key), maxSize, inbox: new Inbox() }
    if (quota) {
      reg.limits = new RateLimiter()
      reg.limits.define(0, quota)
      reg.nextFree = new Map()
    }
    channels.set(channel, reg)
    return [new SimSender(this, reg.key, channel, maxSize), reg.inbox]
  }

  /** @internal */
  deregisterPeer(key: Uint8Array): void {
    const k = hexOf(key)
    const channels = this.#peers.get(k)
    if (!channels) throw new SimulationError('PeerMissing', k.slice(0, 16))
    for (const reg of channels.values()) reg.inbox.close()
    this.#peers.delete(k)
  }

  /** @internal */
  setLink(a: Uint8Array, b: Uint8Array, link: Link): void {
    if (hexOf(a) === hexOf(b)) throw new SimulationError('LinkingSelf', 'a link needs two peers')
    for (const [name, p] of [['successRate', link.successRate], ['corruptRate', link.corruptRate ?? 0]] as const) {
      if (!(p >= 0 && p <= 1)) throw new SimulationError('InvalidSuccessRate', `${name} ${p} outside [0, 1]`)
    }
    if (!(link.latencyMs >= 0) || !(link.jitterMs >= 0) || !Number.isFinite(link.latencyMs) || !Number.isFinite(link.jitterMs)) {
      throw new SimulationError('InvalidBehavior', `latency ${link.latencyMs}, jitter ${link.jitterMs}`)
    }
    this.#links.set(`${hexOf(a)}>${hexOf(b)}`, { ...link, lastAt: 0 })
  }

  /** @internal */
  removeLink(a: Uint8Array, b: Uint8Array): void {
    if (!this.#links.delete(`${hexOf(a)}>${hexOf(b)}`)) throw new SimulationError('LinkMissing', 'no such link')
  }

  /** @internal */
  setPartition(groups: Uint8Array[][] | undefined): void {
    this.#groups = groups ? new Map(groups.flatMap((g, i) => g.map((k) => [hexOf(k), i] as [string, number]))) : undefined
  }

  /** @internal */
  setBlocked(a: Uint8Array, b: Uint8Array, blocked: boolean): void {
    for (const key of [`${hexOf(a)}>${hexOf(b)}`, `${hexOf(b)}>${hexOf(a)}`]) {
      if (blocked) this.#blocked.add(key)
      else this.#blocked.delete(key)
    }
  }

  #cut(from: string, to: string): string | undefined {
    if (this.#blocked.has(`${from}>${to}`)) return 'blocked'
    const g = this.#groups
    if (g && g.get(from) !== g.get(to)) return 'partitioned'
    return undefined
  }

  /** Normal(mean, sd) from the context's randomness (Box-Muller). */
  #normal(mean: number, sd: number): number {
    if (sd === 0) return mean
    const u = (this.ctx.randomInt(2 ** 32 - 1) + 1) / 2 ** 32
    const v = this.ctx.randomInt(2 ** 32) / 2 ** 32
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  #chance(p: number): boolean {
    if (p <= 0) return false
    if (p >= 1) return true
    return this.ctx.randomInt(2 ** 32) / 2 ** 32 < p
  }

  /** @internal A send replaced by a newer one of the same key before it was routed (traced as a drop). */
  superseded(from: Uint8Array, channel: Channel, size: number): void {
    this.#record({ t: this.ctx.now(), event: 'drop', from: hexOf(from), channel, size, reason: 'superseded' })
  }

  /**
   * @internal Route one message; returns the keys it was sent to. With `ttlMs`, a copy whose
   * bandwidth-limited transfer ends more than `ttlMs` after now is dropped (`expired`).
   */
  route(from: Uint8Array, channel: Channel, recipients: Recipients, message: Uint8Array, ttlMs?: number): Uint8Array[] {
    const f = hexOf(from)
    const now = this.ctx.now()
    const keys =
      recipients.kind === 'all'
        ? [...this.#peers.keys()].sort().map((k) => Buffer.from(k, 'hex'))
        : recipients.kind === 'one'
          ? [recipients.key]
          : recipients.keys
    const sent: Uint8Array[] = []
    this.#record({ t: now, event: 'send', from: f, channel, size: message.length })
    for (const key of keys) {
      const to = hexOf(key)
      if (to === f || !this.#peers.has(to)) continue
      const link = this.#links.get(`${f}>${to}`)
      if (!link || this.#cut(f, to)) continue
      sent.push(Uint8Array.from(key))
      const copy = Uint8Array.from(message)
      if (!this.#chance(link.successRate)) {
        this.#record({ t: now, event: 'drop', from: f, to, channel, size: copy.length, reason: 'lost' })
        continue
      }
      const latency = Math.max(0, Math.trunc(this.#normal(link.latencyMs, link.jitterMs)))
      const corrupt = this.#chance(link.corruptRate ?? 0) && copy.length > 0
      const bit = corrupt ? this.ctx.randomInt(copy.length * 8) : 0
      // Transmission (bandwidth), then propagation (latency); ordered links never overtake.
      const propagate = () => {
        const t = this.ctx.now()
        if (ttlMs !== undefined && t - now > ttlMs) {
          this.#record({ t, event: 'drop', from: f, to, channel, size: copy.length, reason: 'expired' })
          return
        }
        let at = t + latency
        if (link.ordered) at = Math.max(at, link.lastAt)
        link.lastAt = Math.max(link.lastAt, at)
        void this.ctx.sleep(at - t).then(() => this.#deliver(from, f, to, channel, copy, corrupt, bit))
      }
      if (this.#bandwidth.isLimited(f, to)) this.#bandwidth.start(f, to, copy.length, propagate)
      else propagate()
    }
    return sent
  }

  #deliver(from: Uint8Array, f: string, to: string, channel: Channel, msg: Uint8Array, corrupt: boolean, bit: number): void {
    const t = this.ctx.now()
    const reg = this.#peers.get(to)?.get(channel)
    const cut = this.#cut(f, to)
    const reason = !reg ? 'no_channel' : msg.length > reg.maxSize ? 'too_large' : cut
    if (reason || !reg) {
      this.#record({ t, event: 'drop', from: f, to, channel, size: msg.length, reason: reason ?? 'no_channel' })
      return
    }
    if (corrupt) {
      msg[bit >> 3]! ^= 1 << (bit & 7)
      this.#record({ t, event: 'corrupt', from: f, to, channel, size: msg.length })
    }
    const wait = this.#throttle(reg, f, t)
    if (wait > 0) {
      this.#record({ t, event: 'throttle', from: f, to, channel, size: msg.length, reason: `held ${wait} ms` })
      void this.ctx.sleep(wait).then(() => {
        this.#record({ t: this.ctx.now(), event: 'deliver', from: f, to, channel, size: msg.length })
        reg.inbox.push([Uint8Array.from(from), msg])
      })
      return
    }
    this.#record({ t, event: 'deliver', from: f, to, channel, size: msg.length })
    reg.inbox.push([Uint8Array.from(from), msg])
  }

  /** Milliseconds to hold a delivery from `f` under the recipient channel's quota (0: deliver now). */
  #throttle(reg: Registration, f: string, t: number): number {
    if (!reg.limits || !reg.nextFree) return 0
    let id = this.#senderIds.get(f)
    if (id === undefined) this.#senderIds.set(f, (id = this.#senderIds.size + 1))
    // Deliveries held for this sender go first; a new one queues behind them.
    let at = Math.max(t, reg.nextFree.get(f) ?? 0)
    for (let w = reg.limits.check(id, 0, at); w > 0; w = reg.limits.check(id, 0, at)) at += Math.ceil(w)
    reg.nextFree.set(f, at)
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
    private readonly me: Uint8Array,
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

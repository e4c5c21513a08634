/**
 * Channels: the `Sender`/`Receiver` pairs a network multiplexes over each connection.
 *
 * ## Design
 * A channel has an id (u32), an inbound quota (per peer, enforced by the peer's receive loop), a
 * backlog, an optional zstd level and an overflow policy. Both sides must configure compression alike:
 * nothing on the wire says whether a payload is compressed (PROTOCOL.md 6.1). Sending compresses
 * first, then checks the size against `maxMessageSize` (the reference checks the compressed size).
 * `send` waits for full recipients (or drops, per the channel's overflow policy); `trySend` never
 * waits and says which recipients took the message. Either may name a supersede `key` and a `ttlMs`
 * (`SendOptions`), which the recipients' outbound queues apply (peer.ts). Receiving queues up to `backlog` messages in one
 * lane per sending peer, served in turn; when full, the delivering peer's receive loop waits, which
 * pushes back on that peer only. Decompression happens in `recv()`, capped at `maxMessageSize`; a failure rejects that one
 * `recv()` with `DecompressError` and is counted; the channel and the connection go on.
 *
 * ## Not provided
 * Protection against compress-then-encrypt length leaks (CRIME/BREACH): do not compress channels that
 * mix secrets with attacker-chosen data. Compression is opt-in per channel for that reason.
 *
 * ## Example
 * `const [tx, rx] = network.register(1, Quota.perSecond(100), 1024, 3)`
 */
import { ClosedError, CompressError, DecompressError, MessageTooLargeError } from '../errors.js'
import { binding } from '../native/load.js'
import { encodeData, encodeDataParts, type EncodedData } from '../codec/messages.js'
import type { Quota } from '../utils/quota.js'
import type { Metrics } from './metrics.js'
import type { Overflow } from './peer.js'
import { receiveAll, sendOptions, type Channel, type Receiver, type Recipients, type Sender, type SendOptions, type SendOutcome } from './types.js'

export interface ChannelSpec {
  channel: Channel
  quota: Quota
  backlog: number
  /** zstd level, or undefined for no compression. */
  compression: number | undefined
  /** What an awaited `send` does when a recipient's queue is full. */
  overflow: Overflow
}

/** Per-channel options of `Network.register` beyond its positional arguments. */
export interface ChannelOptions {
  /** zstd level (both sides must agree); undefined for no compression. */
  compression?: number
  /**
   * What `send` does when a recipient's queue is full (`mailboxSize` messages or `maxPeerQueueBytes`):
   * `wait` (default) until the peer's writer makes room, or until the peer counts as stalled;
   * `drop-newest`: the new message is not queued for that peer (`messages_dropped{reason="queue_full"}`);
   * `drop-oldest`: the oldest queued message of this channel (same priority) is dropped to make room
   * (`messages_dropped{reason="dropped_oldest"}`). The drop policies never wait.
   */
  overflow?: Overflow
}

type Item = [Uint8Array, Uint8Array]

/** One sending peer's messages on one channel, waiting for the application. */
interface Lane {
  readonly from: Uint8Array
  readonly items: Item[]
}

/**
 * The inbound side of one channel: a bounded queue between peers' receive loops and the app, fair to
 * every peer. Each sending connection has its own FIFO lane and lanes are served in turn, so a peer
 * that floods the channel delays another peer's message by at most one message per busy peer. The
 * backlog bounds the total, except that a peer with nothing queued may always queue one (a flooding
 * peer cannot shut the others out): at most `backlog` plus one message per other sending peer.
 */
export class ChannelQueue implements Receiver {
  /** Lanes by sender key object (one per connection; the receive loop passes the same object). */
  readonly #lanes = new Map<Uint8Array, Lane>()
  /** Lanes with messages, in serving order; `#turn` is the next to serve. */
  readonly #ring: Lane[] = []
  #turn = 0
  #count = 0
  readonly #readers: { resolve: (i: Item) => void; reject: (e: unknown) => void }[] = []
  readonly #writers: (() => void)[] = []
  #closed = false

  constructor(
    readonly spec: ChannelSpec,
    private readonly maxMessageSize: number,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Called by a peer's receive loop. Returns undefined when the message was delivered at once, or a
   * promise that resolves once it was (the backlog was full: the peer's loop waits, which slows that
   * peer down through TCP backpressure).
   */
  deliver(from: Uint8Array, payload: Uint8Array): Promise<void> | undefined {
    if (this.#isFull(from) && !this.#closed) return this.#deliverWhenSpace(from, payload)
    this.#hand(from, payload)
    return undefined
  }

  #isFull(from: Uint8Array): boolean {
    return this.#count >= this.spec.backlog && (this.#lanes.get(from)?.items.length ?? 0) > 0
  }

  async #deliverWhenSpace(from: Uint8Array, payload: Uint8Array): Promise<void> {
    while (this.#isFull(from) && !this.#closed) await new Promise<void>((r) => this.#writers.push(r))
    this.#hand(from, payload)
  }

  #hand(from: Uint8Array, payload: Uint8Array): void {
    if (this.#closed) return
    const reader = this.#readers.shift()
    if (reader) return reader.resolve([from, payload])
    let lane = this.#lanes.get(from)
    if (!lane) this.#lanes.set(from, (lane = { from, items: [] }))
    if (lane.items.length === 0) this.#ring.push(lane)
    lane.items.push([from, payload])
    this.#count++
  }

  /** The next message in turn: one from each lane with messages, round and round. */
  #take(): Item | undefined {
    if (this.#count === 0) return undefined
    if (this.#turn >= this.#ring.length) this.#turn = 0
    const lane = this.#ring[this.#turn]!
    const item = lane.items.shift()!
    this.#count--
    if (lane.items.length === 0) {
      this.#ring.splice(this.#turn, 1)
      this.#lanes.delete(lane.from)
    } else this.#turn++
    // Wake every waiting receive loop to look again (at most one per peer).
    if (this.#writers.length > 0) for (const w of this.#writers.splice(0)) w()
    return item
  }

  recv(): Promise<Item> {
    // Uncompressed: the queue's own promise, no async frame per message (the 100 B hot path).
    if (this.spec.compression === undefined) return this.#next()
    return this.#next().then((item) => this.#decompress(item))
  }

  #decompress([from, raw]: Item): Item {
    const out = binding.zstdDecompress(raw, this.maxMessageSize)
    if (out === null) {
      this.metrics.messagesDropped.inc({ peer: Buffer.from(from).toString('hex'), message: String(this.spec.channel), reason: 'decompression_failed' })
      throw new DecompressError(`channel ${this.spec.channel}: message from ${Buffer.from(from).toString('hex').slice(0, 16)} failed to decompress`)
    }
    return [from, out]
  }

  #next(): Promise<Item> {
    const item = this.#take()
    if (item) return Promise.resolve(item)
    if (this.#closed) return Promise.reject(new ClosedError('network stopped'))
    return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }))
  }

  /** Messages that failed to decompress are skipped (and counted); iteration ends when the network stops. */
  [Symbol.asyncIterator](): AsyncIterator<Item> {
    return receiveAll(() => this.recv())
  }

  close(): void {
    this.#closed = true
    for (const r of this.#readers.splice(0)) r.reject(new ClosedError('network stopped'))
    for (const w of this.#writers.splice(0)) w()
  }
}

/**
 * Payloads from this size on (bytes) that the network may send from where they lie (compressed or
 * handed over) are kept apart from their envelope header: below it, one copy into one array costs less
 * than carrying two parts to the seal.
 */
export const PARTS_FROM = 4096

/** How the network routes a message: awaited (`send`) or offered without waiting (`trySend`). */
export interface Routes {
  /** `data`: the encoded Data message; `key` and `ttlMs` as in `SendOptions` (undefined: none). */
  send(recipients: Recipients, channel: Channel, data: EncodedData, priority: boolean, overflow: Overflow, key?: string, ttlMs?: number): Uint8Array[] | Promise<Uint8Array[]>
  offer(recipients: Recipients, channel: Channel, data: EncodedData, priority: boolean, key?: string, ttlMs?: number): SendOutcome
  /** The runtime's `pace`: lets the event loop turn in a loop of sends that resolve at once. */
  pace(): Promise<void> | undefined
}

/** The outbound side: compress, check the size, hand to the router. */
export class ChannelSender implements Sender {
  constructor(
    readonly spec: ChannelSpec,
    private readonly maxMessageSize: number,
    private readonly routes: Routes,
  ) {}

  /**
   * The Data message of `message`: compressed if the channel compresses, size-checked, encoded. The
   * payload is kept apart from its header (not copied) when it is the network's own (compressed) or
   * `transfer`red, and large enough (`PARTS_FROM`).
   */
  #encode(message: Uint8Array, transfer: boolean): EncodedData {
    let payload = message
    let owned = transfer
    if (this.spec.compression !== undefined) {
      try {
        payload = binding.zstdCompress(message, this.spec.compression)
      } catch (e) {
        throw e instanceof CompressError ? e : new CompressError(String(e))
      }
      owned = true
    }
    if (payload.length > this.maxMessageSize) throw new MessageTooLargeError(payload.length, this.maxMessageSize)
    return owned && payload.length >= PARTS_FROM ? encodeDataParts(this.spec.channel, payload) : encodeData(this.spec.channel, payload)
  }

  async send(recipients: Recipients, message: Uint8Array, options: boolean | SendOptions = false): Promise<Uint8Array[]> {
    let to
    if (typeof options === 'boolean') to = this.routes.send(recipients, this.spec.channel, this.#encode(message, false), options, this.spec.overflow)
    else {
      const o = sendOptions(options)
      to = this.routes.send(recipients, this.spec.channel, this.#encode(message, o.transfer), o.priority, this.spec.overflow, o.key, o.ttlMs)
    }
    // A send that resolves at once (queued, or dropped for a stalled peer) returns through microtasks
    // only; pace() lets the event loop turn now and then so a loop of them cannot starve the process.
    const turn = this.routes.pace()
    if (turn) await turn
    return to
  }

  trySend(recipients: Recipients, message: Uint8Array, options: boolean | SendOptions = false): SendOutcome {
    if (typeof options === 'boolean') return this.routes.offer(recipients, this.spec.channel, this.#encode(message, false), options)
    const o = sendOptions(options)
    return this.routes.offer(recipients, this.spec.channel, this.#encode(message, o.transfer), o.priority, o.key, o.ttlMs)
  }
}

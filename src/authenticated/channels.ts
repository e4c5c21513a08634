/**
 * Channels: the `Sender`/`Receiver` pairs a network multiplexes over each connection.
 *
 * ## Design
 * A channel has an id (u32), an inbound quota (per peer, enforced by the peer's receive loop), a
 * backlog and an optional zstd level. Both sides must configure compression alike: nothing on the
 * wire says whether a payload is compressed (PROTOCOL.md 6.1). Sending compresses first, then checks
 * the size against `maxMessageSize` (the reference checks the compressed size). Receiving queues up to
 * `backlog` messages; when full, the delivering peer's receive loop waits, which pushes back on that
 * peer only. Decompression happens in `recv()`, capped at `maxMessageSize`; a failure rejects that one
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
import type { Quota } from '../utils/quota.js'
import type { Metrics } from './metrics.js'
import { receiveAll, type Channel, type Receiver, type Recipients, type Sender } from './types.js'

export interface ChannelSpec {
  channel: Channel
  quota: Quota
  backlog: number
  /** zstd level, or undefined for no compression. */
  compression: number | undefined
}

type Item = [Uint8Array, Uint8Array]

/** The inbound side of one channel: a bounded queue between peers' receive loops and the app. */
export class ChannelQueue implements Receiver {
  readonly #items: Item[] = []
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
    if (this.#items.length >= this.spec.backlog && !this.#closed) return this.#deliverWhenSpace(from, payload)
    this.#hand(from, payload)
    return undefined
  }

  async #deliverWhenSpace(from: Uint8Array, payload: Uint8Array): Promise<void> {
    while (this.#items.length >= this.spec.backlog && !this.#closed) await new Promise<void>((r) => this.#writers.push(r))
    this.#hand(from, payload)
  }

  #hand(from: Uint8Array, payload: Uint8Array): void {
    if (this.#closed) return
    const reader = this.#readers.shift()
    if (reader) reader.resolve([from, payload])
    else this.#items.push([from, payload])
  }

  async recv(): Promise<Item> {
    const [from, raw] = await this.#next()
    if (this.spec.compression === undefined) return [from, raw]
    const out = binding.zstdDecompress(raw, this.maxMessageSize)
    if (out === null) {
      this.metrics.messagesDropped.inc({ peer: Buffer.from(from).toString('hex'), message: String(this.spec.channel), reason: 'decompression_failed' })
      throw new DecompressError(`channel ${this.spec.channel}: message from ${Buffer.from(from).toString('hex').slice(0, 16)} failed to decompress`)
    }
    return [from, out]
  }

  #next(): Promise<Item> {
    const item = this.#items.shift()
    if (item) {
      this.#writers.shift()?.()
      return Promise.resolve(item)
    }
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

/** The outbound side: compress, check the size, hand to the router. */
export class ChannelSender implements Sender {
  constructor(
    readonly spec: ChannelSpec,
    private readonly maxMessageSize: number,
    private readonly route: (recipients: Recipients, channel: Channel, payload: Uint8Array, priority: boolean) => Uint8Array[] | Promise<Uint8Array[]>,
  ) {}

  async send(recipients: Recipients, message: Uint8Array, priority = false): Promise<Uint8Array[]> {
    let payload = message
    if (this.spec.compression !== undefined) {
      try {
        payload = binding.zstdCompress(message, this.spec.compression)
      } catch (e) {
        throw e instanceof CompressError ? e : new CompressError(String(e))
      }
    }
    if (payload.length > this.maxMessageSize) throw new MessageTooLargeError(payload.length, this.maxMessageSize)
    return this.route(recipients, this.spec.channel, payload, priority)
  }
}

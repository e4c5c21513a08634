/**
 * One connected peer: its gossip timer, its outbound queues and its receive loop.
 *
 * ## Design
 * Outbound, three bounded queues are drained in priority order (control: bit vectors and Peers
 * replies; then high-priority data; then normal data); everything queued at a flush goes out through
 * the encrypted connection as one batch (one seal call, one socket write). A full data queue makes
 * `enqueue` wait (under the channel's default `wait` overflow policy), which slows senders to the pace
 * the peer reads; but a peer whose socket has accepted no bytes for `maxWriteStallMs` while a write is
 * in progress (it stopped reading) holds nobody up: its messages are dropped (counted as
 * `peer_stalled`) until it reads again. A queue is full at `mailboxSize` messages or
 * `maxPeerQueueBytes` bytes, whichever comes first.
 *
 * The first bit vector goes out right after the handshake (the reference's docs promise it; its 0.0.25
 * code waits for the first tick; Rust nodes accept it), then one every `gossipBitVecFrequencyMs`, which
 * is also the keep-alive. A tick for a key no longer tracked ends the connection.
 *
 * Inbound, one message at a time: bit vectors and Peers messages under their own per-peer quotas, data
 * under its channel's quota. Over quota, the loop waits until a cell frees and then processes the
 * message (the reference throttles; it never drops), so a flooding peer slows itself down. Data for an
 * unknown channel is counted and dropped; a message that does not decode, or a tracker verdict
 * (bad record, bad bit vector), ends this connection only.
 *
 * ## Not provided
 * Fairness between channels of one peer beyond FIFO: a peer's receive loop delivers in arrival order.
 */
import { encodeData, encodeMessage, tryDecodeMessage, type Message } from '../codec/index.js'
import { DecodeError, isP2pError, type ErrorCode } from '../errors.js'
import type { Context } from '../runtime/context.js'
import { BATCH_BYTES, type EncryptedConnection } from '../stream/connection.js'
import { RateLimiter } from '../utils/ratelimit.js'
import type { ChannelQueue } from './channels.js'
import type { Config } from './config.js'
import { BITVEC, PEERS, type Metrics, type Tally } from './metrics.js'
import type { Tracker } from './tracker/tracker.js'

/** Frame errors that end a connection as a protocol violation, with their `peers_killed` reason. */
const FRAME_VIOLATIONS: Partial<Record<ErrorCode, string>> = {
  ERR_DECRYPT_FAILED: 'decrypt_failed',
  ERR_FRAME_TOO_LARGE: 'frame_too_large',
  ERR_FRAME_EMPTY: 'frame_empty',
}

const labels: string[] = []
/** The `message` label of a channel, without building a string per message. */
const channelLabel = (channel: number): string => (channel < 64 ? (labels[channel] ??= String(channel)) : String(channel))

/**
 * Take queued messages in priority order, up to the stream's BATCH_BYTES (always at least one), so a
 * flush is one seal and one write and the lower-priority queues wait for the next one.
 */
function takeBatch(queues: Queued[][]): Queued[] {
  const out: Queued[] = []
  let bytes = 0
  for (const q of queues) {
    let n = 0
    while (n < q.length && (out.length === 0 || bytes + q[n]!.bytes.length <= BATCH_BYTES)) {
      bytes += q[n]!.bytes.length
      out.push(q[n]!)
      n++
    }
    q.splice(0, n)
    if (n < q.length) break // the budget is spent: lower-priority queues wait for the next batch
  }
  return out
}

const BITVEC_CLASS = 0
const PEERS_CLASS = 1

/** A queued frame: its bytes, its `message` metric label, its channel (-1 for control messages). */
type Queued = { bytes: Uint8Array; message: string; channel: number }

/** What happens to a send when a peer's queue is full: see `ChannelOptions.overflow`. */
export type Overflow = 'wait' | 'drop-newest' | 'drop-oldest'

/** The outcome of offering a message to one peer without waiting. */
export type Offer = 'queued' | 'full' | 'stalled' | 'closed'

export class PeerConnection {
  readonly hex: string
  readonly #control: Queued[] = []
  readonly #high: Queued[] = []
  readonly #low: Queued[] = []
  #wake: (() => void) | undefined
  #ended = false
  readonly #space: (() => void)[] = []
  /** When the write in progress began (undefined when no write is in progress). */
  #writingSince: number | undefined
  /** The connection's write-progress counter when last sampled, and when it last moved. */
  #progress = -1
  #progressAt = 0
  #queuedBytes = 0
  readonly #controlLimits = new RateLimiter()
  readonly #channelLimits = new RateLimiter()
  readonly #abort = new AbortController()
  readonly #sent = new Map<string, Tally>()
  readonly #received = new Map<string, Tally>()
  readonly #bytesSent: Tally
  readonly #bytesReceived: Tally

  constructor(
    private readonly ctx: Context,
    private readonly cfg: Config,
    readonly conn: EncryptedConnection,
    private readonly tracker: Tracker,
    private readonly channels: Map<number, ChannelQueue>,
    private readonly metrics: Metrics,
  ) {
    this.hex = Buffer.from(conn.peer).toString('hex')
    this.#controlLimits.define(BITVEC_CLASS, cfg.allowedBitVecRate)
    this.#controlLimits.define(PEERS_CLASS, cfg.allowedPeersRate)
    for (const [id, q] of channels) this.#channelLimits.define(id, q.spec.quota)
    this.#bytesSent = metrics.tally(metrics.bytesSent, { peer: this.hex })
    this.#bytesReceived = metrics.tally(metrics.bytesReceived, { peer: this.hex })
  }

  /** The tally of `counter` for this peer and `message` label, created on first use. */
  #tally(tallies: Map<string, Tally>, counter: Metrics['messagesSent'], message: string): Tally {
    let t = tallies.get(message)
    if (!t) tallies.set(message, (t = this.metrics.tally(counter, { peer: this.hex, message })))
    return t
  }

  get peer(): Uint8Array {
    return this.conn.peer
  }

  /**
   * Runs until the connection ends; resolves with why. A frame that is too large, empty or fails to
   * decrypt is a protocol violation and is counted in `peers_killed` by its reason.
   */
  async run(): Promise<unknown> {
    const tasks = [this.#gossip(), this.#write(), this.#read()]
    const why = await Promise.race(tasks.map((t) => t.then(() => undefined, (e: unknown) => e)))
    const violation = isP2pError(why) ? FRAME_VIOLATIONS[why.code] : undefined
    if (violation && !this.#ended) this.kill(violation)
    this.#end()
    await Promise.allSettled(tasks)
    return why
  }

  /**
   * Offer a data message without waiting: `queued`, or why not: `full` (the queue holds `mailboxSize`
   * messages or `maxPeerQueueBytes` bytes), `stalled` (full, and the socket accepted no bytes for
   * `maxWriteStallMs`), `closed`. Under `drop-oldest` a full queue makes room by dropping the oldest
   * queued message of the same channel and priority. Every message not queued is counted in
   * `messages_dropped` with its reason (`queue_full`, `peer_stalled`, `dropped_oldest` for the one
   * making room).
   */
  offer(channel: number, payload: Uint8Array, priority: boolean, overflow: Overflow = 'wait'): Offer {
    if (this.#ended) return 'closed'
    const q = priority ? this.#high : this.#low
    if (this.#hasSpace(q)) return this.#push(q, channel, payload)
    if (this.#isStalled()) return this.#drop(channel, 'peer_stalled', 'stalled')
    if (overflow === 'drop-oldest' && this.#dropOldest(q, channel)) return this.#push(q, channel, payload)
    return this.#drop(channel, 'queue_full', 'full')
  }

  /**
   * Queue a data message under the channel's overflow policy; resolves false if it was not queued.
   * `wait`: while this peer's queue is full the call waits for space, which slows a sender down to
   * what the peer reads; but once the peer's socket has accepted no bytes for `maxWriteStallMs` (it
   * stopped reading) it no longer holds anyone up: the message is dropped for this peer only and
   * counted as `peer_stalled`. `drop-newest` and `drop-oldest` never wait (see `offer`). False also
   * once the connection has ended.
   */
  enqueue(channel: number, payload: Uint8Array, priority: boolean, overflow: Overflow = 'wait'): boolean | Promise<boolean> {
    if (this.#ended) return false
    const q = priority ? this.#high : this.#low
    if (this.#hasSpace(q)) return this.#push(q, channel, payload) === 'queued'
    if (overflow !== 'wait') return this.offer(channel, payload, priority, overflow) === 'queued'
    return this.#enqueueWhenSpace(q, channel, payload)
  }

  #hasSpace(q: Queued[]): boolean {
    return q.length < this.cfg.mailboxSize && (this.#queuedBytes < this.cfg.maxPeerQueueBytes || this.#high.length + this.#low.length === 0)
  }

  #push(q: Queued[], channel: number, payload: Uint8Array): 'queued' {
    const bytes = encodeData(channel, payload)
    q.push({ bytes, message: channelLabel(channel), channel })
    this.#queuedBytes += bytes.length
    this.#kick()
    return 'queued'
  }

  #drop<T extends Offer>(channel: number, reason: string, outcome: T): T {
    this.metrics.messagesDropped.inc({ peer: this.hex, message: channelLabel(channel), reason })
    return outcome
  }

  /** Drop the oldest message of `channel` in `q` (counted); false if there is none. */
  #dropOldest(q: Queued[], channel: number): boolean {
    const i = q.findIndex((m) => m.channel === channel)
    if (i < 0) return false
    const [old] = q.splice(i, 1)
    this.#queuedBytes -= old!.bytes.length
    this.#drop(channel, 'dropped_oldest', 'full')
    return true
  }

  /**
   * Whether a write is in progress and the socket has accepted no bytes for `maxWriteStallMs`:
   * progress is sampled here, so a peer that reads, however slowly, is never stalled.
   */
  #isStalled(): boolean {
    if (this.#writingSince === undefined) return false
    const now = this.ctx.now()
    const p = this.conn.progress()
    if (p !== this.#progress) {
      this.#progress = p
      this.#progressAt = now
      return false
    }
    return now - Math.max(this.#progressAt, this.#writingSince) >= this.cfg.maxWriteStallMs
  }

  async #enqueueWhenSpace(q: Queued[], channel: number, payload: Uint8Array): Promise<boolean> {
    while (!this.#hasSpace(q) && !this.#ended) {
      if (this.#isStalled()) {
        this.#drop(channel, 'peer_stalled', 'stalled')
        return false
      }
      // Wake when the writer frees space, or when the peer would count as stalled, to look again.
      const since = this.#writingSince === undefined ? this.ctx.now() : Math.max(this.#progressAt, this.#writingSince)
      const wake = new AbortController()
      const space = new Promise<void>((r) => this.#space.push(r)).then(() => wake.abort())
      await Promise.race([space, this.ctx.sleep(Math.max(1, since + this.cfg.maxWriteStallMs - this.ctx.now()), wake.signal).catch(() => undefined)])
      wake.abort()
    }
    return this.#ended ? false : this.#push(q, channel, payload) === 'queued'
  }

  /** Bytes of data messages queued for this peer, not yet written. */
  get queuedBytes(): number {
    return this.#queuedBytes
  }

  /** Messages waiting to be written to this peer (data and control). */
  get queued(): number {
    return this.#control.length + this.#high.length + this.#low.length
  }

  #control_(m: Message, label: string): void {
    if (this.#control.length >= this.cfg.mailboxSize) {
      this.metrics.messagesDropped.inc({ peer: this.hex, message: label, reason: 'control_queue_full' })
      return
    }
    this.#control.push({ bytes: encodeMessage(m), message: label, channel: -1 })
    this.#kick()
  }

  #kick(): void {
    const w = this.#wake
    this.#wake = undefined
    w?.()
  }

  async #gossip(): Promise<void> {
    const signal = this.#abort.signal
    while (!signal.aborted) {
      if (!this.tracker.directory.isTracked(this.peer)) return this.kill('untracked')
      const g = this.tracker.directory.gossip((n) => this.ctx.randomInt(n))
      if (g) this.#control_({ type: 'bitVec', index: g.index, bits: g.bits }, BITVEC)
      await this.ctx.sleep(this.cfg.gossipBitVecFrequencyMs, signal).catch(() => undefined)
    }
  }

  async #write(): Promise<void> {
    while (!this.#ended) {
      if (this.#control.length + this.#high.length + this.#low.length === 0) {
        await new Promise<void>((r) => (this.#wake = r))
        continue
      }
      const batch = takeBatch([this.#control, this.#high, this.#low])
      for (const w of this.#space.splice(0)) w()
      const frames: Uint8Array[] = new Array(batch.length)
      let bytes = 0
      for (let i = 0; i < batch.length; i++) {
        const q = batch[i]!
        this.#tally(this.#sent, this.metrics.messagesSent, q.message).n++
        bytes += q.bytes.length
        if (q.channel >= 0) this.#queuedBytes -= q.bytes.length
        frames[i] = q.bytes
      }
      this.#bytesSent.n += bytes
      this.#writingSince = this.ctx.now()
      this.#progress = this.conn.progress()
      await this.conn.sendMany(frames)
      this.#writingSince = undefined
    }
  }

  /** Undefined when a message of `cls` may be processed now; else a promise that waits its turn. */
  #throttle(limits: RateLimiter, cls: number, label: string): Promise<void> | undefined {
    return limits.check(0, cls, this.ctx.now()) === 0 ? undefined : this.#waitTurn(limits, cls, label)
  }

  async #waitTurn(limits: RateLimiter, cls: number, label: string): Promise<void> {
    for (;;) {
      const wait = limits.check(0, cls, this.ctx.now())
      if (wait === 0) return
      this.metrics.messagesRateLimited.inc({ peer: this.hex, message: label })
      await this.ctx.sleep(Math.ceil(wait), this.#abort.signal)
    }
  }

  async #read(): Promise<void> {
    for (;;) {
      let plain = this.conn.recvReady()
      if (!plain) {
        // Between chunks: let the event loop turn if this loop has run long without waiting.
        const turn = this.ctx.pace()
        if (turn) await turn
        plain = await this.conn.recv()
      }
      const m = tryDecodeMessage(plain)
      if (m instanceof DecodeError) return this.kill('decode_failed')
      switch (m.type) {
        case 'bitVec': {
          this.#tally(this.#received, this.metrics.messagesReceived, BITVEC).n++
          await this.#throttle(this.#controlLimits, BITVEC_CLASS, BITVEC)
          const r = this.tracker.handleBitVec(m.index, m.bits)
          if (r.kind === 'kill') return this.kill(r.reason)
          if (r.kind === 'reply') this.#control_({ type: 'peers', peers: r.peers }, PEERS)
          break
        }
        case 'peers': {
          this.#tally(this.#received, this.metrics.messagesReceived, PEERS).n++
          await this.#throttle(this.#controlLimits, PEERS_CLASS, PEERS)
          const r = this.tracker.handlePeers(m.peers)
          if (r.kind === 'kill') return this.kill(r.reason)
          break
        }
        case 'data': {
          const label = channelLabel(m.channel)
          this.#tally(this.#received, this.metrics.messagesReceived, label).n++
          this.#bytesReceived.n += m.message.length
          const q = this.channels.get(m.channel)
          if (!q) {
            this.metrics.messagesDropped.inc({ peer: this.hex, message: label, reason: 'unknown_channel' })
            break
          }
          const turn = this.#throttle(this.#channelLimits, m.channel, label)
          if (turn) await turn
          // The decoded payload is a view into the frame buffer, which is not reused: no copy needed.
          const delivered = q.deliver(this.peer, m.message)
          if (delivered) await delivered
          break
        }
        case 'none':
          break
      }
    }
  }

  /** End this connection for a protocol violation (counted by reason). */
  kill(reason: string): void {
    this.metrics.peersKilled.inc({ reason })
    this.#end()
  }

  #end(): void {
    if (this.#ended) return
    this.#ended = true
    this.metrics.release(this.metrics.messagesSent, this.#sent.values())
    this.metrics.release(this.metrics.messagesReceived, this.#received.values())
    this.metrics.release(this.metrics.bytesSent, [this.#bytesSent])
    this.metrics.release(this.metrics.bytesReceived, [this.#bytesReceived])
    this.#abort.abort(new Error('peer ended'))
    this.conn.close()
    this.#kick()
    for (const w of this.#space.splice(0)) w()
  }
}

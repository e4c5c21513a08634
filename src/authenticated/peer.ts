/**
 * One connected peer: its gossip ticks, its outbound queues and its receive loop.
 *
 * ## Design
 * Outbound, three bounded queues are drained in priority order (control: bit vectors and Peers
 * replies; then high-priority data; then normal data); everything queued at a flush goes out through
 * the encrypted connection as one batch (one seal call, one socket write). A full data queue makes
 * `enqueue` wait (under the channel's default `wait` overflow policy), which slows senders to the pace
 * the peer reads; but a peer whose socket has accepted no bytes for `maxWriteStallMs` while a write is
 * in progress (it stopped reading) holds nobody up: its messages are dropped (counted as
 * `peer_stalled`) until it reads again. A queue is full at `mailboxSize` messages or
 * `maxPeerQueueBytes` bytes, whichever comes first. The writer runs on callbacks (a kick queued on
 * the microtask queue, so one synchronous burst of sends shares a batch; a finished write; a turn of
 * the event loop), not as an awaiting loop: an idle connection holds nothing pending for it.
 *
 * A data message may carry a supersede slot (channel and key) and an expiry. A new message of a slot
 * replaces the queued one in its turn (a vote or status update never queues behind its own stale
 * copy, and never waits for room when it replaces one); a message found stale when the writer reaches
 * it, or when the queue is full and its room is needed, is dropped. Both are counted.
 *
 * The first bit vector goes out right after the handshake (the reference's docs promise it; its 0.0.25
 * code waits for the first tick; Rust nodes accept it), then one at every tick of the network's gossip
 * timer (every `gossipBitVecFrequencyMs`, one timer for all of a node's peers), which is also the
 * keep-alive. A tick for a key no longer tracked ends the connection.
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
import { dataFrame, encodeMessage, tryDecodeMessage, type EncodedData, type Message } from '../codec/index.js'
import { DecodeError, isP2pError, type ErrorCode } from '../errors.js'
import type { Context } from '../runtime/context.js'
import { BATCH_BYTES, type EncryptedConnection } from '../stream/connection.js'
import { Gcra } from '../utils/gcra.js'
import type { ChannelQueue } from './channels.js'
import type { Config } from './config.js'
import { BITVEC, PEERS, type Metrics, type PeerTally } from './metrics.js'
import type { Tracker } from './tracker/tracker.js'

/** Frame errors that end a connection as a protocol violation, with their `peers_killed` reason. */
const FRAME_VIOLATIONS: Partial<Record<ErrorCode, string>> = {
  ERR_DECRYPT_FAILED: 'decrypt_failed',
  ERR_FRAME_TOO_LARGE: 'frame_too_large',
  ERR_FRAME_EMPTY: 'frame_empty',
}

/** Batches handed to the encrypted connection and not yet written, at most. */
const WRITES_IN_FLIGHT = 2

const labels: string[] = []
/** The `message` label of a channel, without building a string per message. */
const channelLabel = (channel: number): string => (channel < 64 ? (labels[channel] ??= String(channel)) : String(channel))

/**
 * Take queued messages in priority order, up to the stream's BATCH_BYTES (always at least one), so a
 * flush is one seal and one write and the lower-priority queues wait for the next one.
 */
function takeBatch(queues: Queued[][], now: number, expire: (m: Queued) => void): Queued[] {
  const out: Queued[] = []
  let bytes = 0
  for (const q of queues) {
    let n = 0
    while (n < q.length) {
      const m = q[n]!
      if (m.expiresAt < now) {
        // Stale: older than its ttl now that the writer would take it.
        expire(m)
        n++
        continue
      }
      if (out.length > 0 && bytes + m.bytes.length > BATCH_BYTES) break
      bytes += m.bytes.length
      out.push(m)
      n++
    }
    q.splice(0, n)
    if (n < q.length) break // the budget is spent: lower-priority queues wait for the next batch
  }
  return out
}


/**
 * A queued frame: its bytes, its `message` metric label, its channel (-1 for control messages), its
 * supersede slot (`channel:key`, or undefined), when it goes stale (ms, Infinity for never), the
 * peer-local order of its send and whether it is in the high-priority queue.
 */
type Queued = { bytes: EncodedData; message: string; channel: number; slot: string | undefined; expiresAt: number; seq: number; high: boolean }

/**
 * Where a data message goes beyond its channel and priority: `slot` (`channel:key`) replaces a queued
 * message of the same slot; `expiresAt` (ms, context clock; Infinity for never) is when it goes stale.
 */
export interface Placement {
  slot: string | undefined
  expiresAt: number
}

const PLAIN: Placement = { slot: undefined, expiresAt: Infinity }

/** What happens to a send when a peer's queue is full: see `ChannelOptions.overflow`. */
export type Overflow = 'wait' | 'drop-newest' | 'drop-oldest'

/** The outcome of offering a message to one peer without waiting. */
export type Offer = 'queued' | 'full' | 'stalled' | 'closed'

export class PeerConnection {
  readonly hex: string
  /**
   * A bootstrapper outside every tracked set under the `discovery-only` policy: its Data messages are
   * dropped (`messages_dropped{reason="bootstrapper_data"}`); gossip goes on. Set by the network.
   */
  discoveryOnly = false
  readonly #control: Queued[] = []
  readonly #high: Queued[] = []
  readonly #low: Queued[] = []
  #ended = false
  /** Batches handed to the connection and not yet written (at most WRITES_IN_FLIGHT). */
  #writes = 0
  /** Inside `#pump` (a kick from within is picked up by its loop). */
  #pumping = false
  /** A pump is due: queued on the microtask queue, or waiting for the event loop to turn (`ctx.pace`). */
  #pumpDue = false
  /** Ends the write side (undefined after a clean end, else the write error); set by `run`, cleared once called. */
  #writerEnd: ((e: unknown) => void) | undefined
  readonly #space: (() => void)[] = []
  /** When the write in progress began (undefined when no write is in progress). */
  #writingSince: number | undefined
  /** The connection's write-progress counter when last sampled, and when it last moved. */
  #progress = -1
  #progressAt = 0
  #queuedBytes = 0
  /** The queued data message of each supersede slot (`channel:key`). */
  #slots: Map<string, Queued> | undefined
  /** Order of sends to this peer (a waiting keyed send must not replace a newer one). */
  #seq = 0
  /** At most the earliest expiry of any queued data message (ms; Infinity: none can expire). */
  #earliestExpiry = Infinity
  /** `#expire` for the writer's `takeBatch`. */
  readonly #expireTaken = (m: Queued): void => this.#expire(m)
  /** Inbound quotas of this connection: bit vectors, Peers messages, then each channel (plain JS: no crossing per message). */
  readonly #bitVecLimit: Gcra
  readonly #peersLimit: Gcra
  /** Created on the channel's first message from this peer (most peers use few of the channels). */
  #channelLimits: Map<number, Gcra> | undefined
  /** The origin of this connection's quota clock (ms, context clock). */
  readonly #epoch: number
  /** Cancels a quota wait when the connection ends; made by the first such wait. */
  #abort: AbortController | undefined
  /** This connection's message and byte counts (folded into the counters when they are read). */
  readonly #tally: PeerTally

  constructor(
    private readonly ctx: Context,
    private readonly cfg: Config,
    readonly conn: EncryptedConnection,
    private readonly tracker: Tracker,
    private readonly channels: Map<number, ChannelQueue>,
    private readonly metrics: Metrics,
  ) {
    this.hex = Buffer.from(conn.peer).toString('hex')
    this.#epoch = ctx.now()
    this.#bitVecLimit = new Gcra(cfg.allowedBitVecRate)
    this.#peersLimit = new Gcra(cfg.allowedPeersRate)
    this.#tally = metrics.tally(this.hex)
  }

  get peer(): Uint8Array {
    return this.conn.peer
  }

  /**
   * Runs until the connection ends; resolves with why. A frame that is too large, empty or fails to
   * decrypt is a protocol violation and is counted in `peers_killed` by its reason.
   */
  run(): Promise<unknown> {
    this.gossip()
    // The first of the two sides to end (or fail) ends the connection; resolves once both have ended.
    // Callbacks rather than an awaited race: this state lives as long as the connection, once per peer.
    return new Promise((resolve) => {
      let first = true
      let why: unknown
      let left = 2
      const settle = (e: unknown): void => {
        if (first) {
          first = false
          why = e
          const violation = isP2pError(e) ? FRAME_VIOLATIONS[e.code] : undefined
          if (violation && !this.#ended) this.kill(violation)
          this.#end()
        }
        if (--left === 0) resolve(why)
      }
      this.#writerEnd = settle
      this.#pump()
      this.#read().then(() => settle(undefined), settle)
    })
  }

  /**
   * Offer a data message (`data`: the encoded Data message, `encodeData(channel, payload)` or its `DataParts`, shared by
   * every recipient of a broadcast) without waiting: `queued`, or why not: `full` (the queue holds `mailboxSize`
   * messages or `maxPeerQueueBytes` bytes), `stalled` (full, and the socket accepted no bytes for
   * `maxWriteStallMs`), `closed`. Under `drop-oldest` a full queue makes room by dropping the oldest
   * queued message of the same channel and priority. Every message not queued is counted in
   * `messages_dropped` with its reason (`queue_full`, `peer_stalled`, `dropped_oldest` for the one
   * making room). With a `place.slot`, a queued message of the same slot is replaced in its turn
   * (`superseded`), whether or not the queue is full; a queued message past its `place.expiresAt` is
   * dropped (`expired`) when the writer reaches it, or earlier when its room is needed.
   */
  offer(channel: number, data: EncodedData, priority: boolean, overflow: Overflow = 'wait', place: Placement = PLAIN): Offer {
    if (this.#ended) return 'closed'
    const seq = ++this.#seq
    if (place.slot !== undefined && this.#supersede(channel, data, priority, place, seq) !== undefined) return 'queued'
    const q = priority ? this.#high : this.#low
    if (this.#hasSpace(q) || (this.#sweep() && this.#hasSpace(q))) return this.#push(q, channel, data, place, seq)
    if (this.#isStalled()) return this.#drop(channel, 'peer_stalled', 'stalled')
    if (overflow === 'drop-oldest' && this.#dropOldest(q, channel)) return this.#push(q, channel, data, place, seq)
    return this.#drop(channel, 'queue_full', 'full')
  }

  /**
   * Queue a data message under the channel's overflow policy; resolves false if it was not queued.
   * `wait`: while this peer's queue is full the call waits for space, which slows a sender down to
   * what the peer reads; but once the peer's socket has accepted no bytes for `maxWriteStallMs` (it
   * stopped reading) it no longer holds anyone up: the message is dropped for this peer only and
   * counted as `peer_stalled`. `drop-newest` and `drop-oldest` never wait (see `offer`). False also
   * once the connection has ended, when it went stale while waiting (`expired`), or when a newer
   * message of its slot was queued while it waited (`superseded`).
   */
  enqueue(channel: number, data: EncodedData, priority: boolean, overflow: Overflow = 'wait', place: Placement = PLAIN): boolean | Promise<boolean> {
    if (this.#ended) return false
    if (place.slot !== undefined || overflow !== 'wait') return this.#enqueueWith(channel, data, priority, overflow, place)
    const q = priority ? this.#high : this.#low
    if (this.#hasSpace(q) || (this.#sweep() && this.#hasSpace(q))) return this.#push(q, channel, data, place, ++this.#seq) === 'queued'
    return this.#enqueueWhenSpace(q, channel, data, place, ++this.#seq)
  }

  /** `enqueue` for a keyed message or a drop policy: supersede first, then as `offer` or wait. */
  #enqueueWith(channel: number, data: EncodedData, priority: boolean, overflow: Overflow, place: Placement): boolean | Promise<boolean> {
    if (overflow !== 'wait') return this.offer(channel, data, priority, overflow, place) === 'queued'
    const seq = ++this.#seq
    const replaced = place.slot === undefined ? undefined : this.#supersede(channel, data, priority, place, seq)
    if (replaced !== undefined) return replaced
    const q = priority ? this.#high : this.#low
    if (this.#hasSpace(q) || (this.#sweep() && this.#hasSpace(q))) return this.#push(q, channel, data, place, seq) === 'queued'
    return this.#enqueueWhenSpace(q, channel, data, place, seq)
  }

  /**
   * Replace the queued message of `place.slot` with this one (counted as `superseded`): true. If the
   * queued one was sent after this one (this send waited for space), this one is the stale one and is
   * dropped instead: false. Undefined when no message of the slot is queued.
   */
  #supersede(channel: number, data: EncodedData, priority: boolean, place: Placement, seq: number): boolean | undefined {
    const old = this.#slots?.get(place.slot!)
    if (!old) return undefined
    this.#drop(channel, 'superseded', 'full')
    if (old.seq > seq) return false
    if (old.high === priority) {
      // In place: the new message keeps the old one's turn.
      this.#queuedBytes += data.length - old.bytes.length
      old.bytes = data
      old.expiresAt = place.expiresAt
      old.seq = seq
      this.#noteExpiry(place.expiresAt)
      return true
    }
    const from = old.high ? this.#high : this.#low
    from.splice(from.indexOf(old), 1)
    this.#queuedBytes -= old.bytes.length
    this.#slots!.delete(place.slot!)
    this.#push(priority ? this.#high : this.#low, channel, data, place, seq)
    return true
  }

  #noteExpiry(at: number): void {
    if (at < this.#earliestExpiry) this.#earliestExpiry = at
  }

  /**
   * Drop every stale data message (counted as `expired`) if one may be stale; true if any was
   * dropped. Cheap when none can be: `#earliestExpiry` is a lower bound of every queued expiry.
   */
  #sweep(): boolean {
    const now = this.ctx.now()
    if (!(this.#earliestExpiry < now)) return false
    let earliest = Infinity
    let dropped = false
    for (const q of [this.#high, this.#low]) {
      let keep = 0
      for (let i = 0; i < q.length; i++) {
        const m = q[i]!
        if (m.expiresAt < now) {
          this.#expire(m)
          dropped = true
        } else {
          if (m.expiresAt < earliest) earliest = m.expiresAt
          q[keep++] = m
        }
      }
      q.length = keep
    }
    this.#earliestExpiry = earliest
    return dropped
  }

  /** Account for a stale data message leaving its queue (its caller removes it), counted as `expired`. */
  #expire(m: Queued): void {
    this.#queuedBytes -= m.bytes.length
    if (m.slot !== undefined && this.#slots!.get(m.slot) === m) this.#slots!.delete(m.slot)
    this.#drop(m.channel, 'expired', 'full')
  }

  #hasSpace(q: Queued[]): boolean {
    return q.length < this.cfg.mailboxSize && (this.#queuedBytes < this.cfg.maxPeerQueueBytes || this.#high.length + this.#low.length === 0)
  }

  #push(q: Queued[], channel: number, bytes: EncodedData, place: Placement = PLAIN, seq = 0): 'queued' {
    const m: Queued = { bytes, message: channelLabel(channel), channel, slot: place.slot, expiresAt: place.expiresAt, seq, high: q === this.#high }
    q.push(m)
    if (place.slot !== undefined) (this.#slots ??= new Map()).set(place.slot, m)
    if (place.expiresAt !== Infinity) this.#noteExpiry(place.expiresAt)
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
    if (old!.slot !== undefined && this.#slots!.get(old!.slot) === old) this.#slots!.delete(old!.slot)
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

  async #enqueueWhenSpace(q: Queued[], channel: number, data: EncodedData, place: Placement, seq: number): Promise<boolean> {
    while (!this.#ended && !(this.#hasSpace(q) || (this.#sweep() && this.#hasSpace(q)))) {
      if (this.#isStalled()) {
        this.#drop(channel, 'peer_stalled', 'stalled')
        return false
      }
      // Wake when the writer frees space, or when the peer would count as stalled, to look again.
      const since = this.#writingSince === undefined ? this.ctx.now() : Math.max(this.#progressAt, this.#writingSince)
      let cancel: (() => void) | undefined
      await new Promise<void>((wake) => {
        this.#space.push(wake)
        cancel = this.ctx.after(Math.max(1, since + this.cfg.maxWriteStallMs - this.ctx.now()), wake)
      })
      cancel!()
    }
    if (this.#ended) return false
    // Stale before there was room for it: the writer would drop it at once.
    if (place.expiresAt < this.ctx.now()) {
      this.#drop(channel, 'expired', 'full')
      return false
    }
    if (place.slot !== undefined) {
      const replaced = this.#supersede(channel, data, q === this.#high, place, seq)
      if (replaced !== undefined) return replaced
    }
    return this.#push(q, channel, data, place, seq) === 'queued'
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
    this.#controlBytes(encodeMessage(m), label)
  }

  /** Queue an encoded control message (read-only: it may be shared with other peers). */
  #controlBytes(bytes: Uint8Array, label: string): void {
    if (this.#control.length >= this.cfg.mailboxSize) {
      this.metrics.messagesDropped.inc({ peer: this.hex, message: label, reason: 'control_queue_full' })
      return
    }
    this.#control.push({ bytes, message: label, channel: -1, slot: undefined, expiresAt: Infinity, seq: 0, high: true })
    this.#kick()
  }

  /**
   * Something was queued (or the connection ended): run the writer soon. On the microtask queue, not
   * at once, so messages queued in one synchronous run (a broadcast, a burst of sends) share a batch.
   */
  #kick(): void {
    if (this.#pumpDue || this.#pumping || this.#writerEnd === undefined) return
    this.#pumpDue = true
    void Promise.resolve().then(() => {
      this.#pumpDue = false
      this.#pump()
    })
  }

  /**
   * One gossip tick: queue a bit vector of one tracked set (picked at random), or end the connection if
   * the peer is no longer tracked. Run once when the connection starts, then by the network's gossip
   * timer every `gossipBitVecFrequencyMs` (one timer for all peers, not one per connection). `tick`
   * holds the encoded bit vectors of this tick by set index: every peer of one tick is sent the same
   * bytes, encoded once (a node with a thousand peers would otherwise copy and encode a thousand).
   */
  gossip(tick?: Map<bigint, Uint8Array>): void {
    if (this.#ended) return
    if (!this.tracker.directory.isTracked(this.peer)) return this.kill('untracked')
    const set = this.tracker.directory.gossipSet((n) => this.ctx.randomInt(n))
    if (!set) return
    let bytes = tick?.get(set.index)
    if (!bytes) {
      bytes = encodeMessage({ type: 'bitVec', index: set.index, bits: set.bits.toWire() })
      tick?.set(set.index, bytes)
    }
    this.#controlBytes(bytes, BITVEC)
  }

  /**
   * The writer: hand queued messages to the connection in batches while fewer than WRITES_IN_FLIGHT
   * are being written, so the next batch is taken and sealed while the previous one is still being
   * written (sealing overlaps socket I/O). Driven by callbacks (a kick, a finished write, a turn of the
   * event loop), not an awaiting loop: an idle connection holds no pending promise for its writer.
   */
  #pump(): void {
    if (this.#pumping || this.#pumpDue || this.#writerEnd === undefined) return
    this.#pumping = true
    try {
      for (;;) {
        if (this.#ended) {
          if (this.#writes === 0) this.#endWriter(undefined)
          return
        }
        if (this.#writes >= WRITES_IN_FLIGHT || this.#control.length + this.#high.length + this.#low.length === 0) return
        // Between batches (each is a seal of up to BATCH_BYTES): let the event loop turn if it is due.
        const turn = this.ctx.pace()
        if (turn) {
          this.#pumpDue = true
          void turn.then(() => {
            this.#pumpDue = false
            this.#pump()
          })
          return
        }
        const batch = takeBatch([this.#control, this.#high, this.#low], this.ctx.now(), this.#expireTaken)
        for (const w of this.#space.splice(0)) w()
        if (batch.length === 0) continue
        const frames: (Uint8Array | readonly Uint8Array[])[] = new Array(batch.length)
        let bytes = 0
        for (let i = 0; i < batch.length; i++) {
          const q = batch[i]!
          this.#tally.sentCount(q.message).n++
          bytes += q.bytes.length
          if (q.channel >= 0) this.#queuedBytes -= q.bytes.length
          if (q.slot !== undefined && this.#slots!.get(q.slot) === q) this.#slots!.delete(q.slot)
          frames[i] = dataFrame(q.bytes)
        }
        this.#tally.bytesSent += bytes
        if (this.#writingSince === undefined) {
          this.#writingSince = this.ctx.now()
          this.#progress = this.conn.progress()
        }
        this.#writes++
        this.conn.sendMany(frames).then(
          () => this.#written(),
          (e: unknown) => this.#endWriter(e ?? new Error('write failed')),
        )
      }
    } catch (e) {
      this.#endWriter(e)
    } finally {
      this.#pumping = false
    }
  }

  /** A batch was written: the write is idle once none is left; take the next. */
  #written(): void {
    if (--this.#writes === 0) this.#writingSince = undefined
    this.#pump()
  }

  /** The write side is over: cleanly once the connection ended and every batch was written, or with a write's error. */
  #endWriter(e: unknown): void {
    const end = this.#writerEnd
    this.#writerEnd = undefined
    end?.(e)
  }

  #channelLimit(channel: number, q: ChannelQueue): Gcra {
    const limits = (this.#channelLimits ??= new Map())
    let g = limits.get(channel)
    if (!g) limits.set(channel, (g = new Gcra(q.spec.quota)))
    return g
  }

  /** When the chunk being processed arrived, ns since the quota epoch (the first quota check's time). */
  #arrivedNs = 0

  /** Nanoseconds since this connection's quota epoch. */
  #nowNs(): number {
    return Math.round((this.ctx.now() - this.#epoch) * 1e6)
  }

  /** Undefined when a message under `limit` may be processed now; else a promise that waits its turn. */
  #throttle(limit: Gcra, label: string): Promise<void> | undefined {
    return limit.check(this.#arrivedNs) === 0 ? undefined : this.#waitTurn(limit, label)
  }

  async #waitTurn(limit: Gcra, label: string): Promise<void> {
    for (;;) {
      const now = this.#nowNs()
      const waitNs = limit.check(now)
      if (waitNs === 0) {
        this.#arrivedNs = now // the rest of the chunk is checked at this later time
        return
      }
      this.metrics.messagesRateLimited.inc({ peer: this.hex, message: label })
      await this.ctx.sleep(Math.ceil(waitNs / 1e6), (this.#abort ??= new AbortController()).signal)
    }
  }

  async #read(): Promise<void> {
    for (let n = 0; ; n++) {
      // Between chunks, and every 64 messages within one: let the event loop turn if this loop has
      // run long without waiting (a chunk can hold hundreds of small messages).
      if ((n & 63) === 0 || this.conn.readyCount() === 0) {
        const turn = this.ctx.pace()
        if (turn) await turn
      }
      let plain = this.conn.recvReady()
      if (plain === undefined) {
        plain = await this.conn.recv()
        // Messages opened from one chunk arrived together: one clock read serves them all.
        this.#arrivedNs = this.#nowNs()
      }
      const m = tryDecodeMessage(plain)
      if (m instanceof DecodeError) return this.kill('decode_failed')
      switch (m.type) {
        case 'bitVec': {
          this.#tally.receivedCount(BITVEC).n++
          await this.#throttle(this.#bitVecLimit, BITVEC)
          const r = this.tracker.handleBitVec(m.index, m.bits)
          if (r.kind === 'kill') return this.kill(r.reason)
          if (r.kind === 'reply') this.#control_({ type: 'peers', peers: r.peers }, PEERS)
          break
        }
        case 'peers': {
          this.#tally.receivedCount(PEERS).n++
          await this.#throttle(this.#peersLimit, PEERS)
          const r = this.tracker.handlePeers(m.peers)
          if (r.kind === 'kill') return this.kill(r.reason)
          break
        }
        case 'data': {
          const label = channelLabel(m.channel)
          this.#tally.receivedCount(label).n++
          this.#tally.bytesReceived += m.message.length
          if (this.discoveryOnly) {
            this.metrics.messagesDropped.inc({ peer: this.hex, message: label, reason: 'bootstrapper_data' })
            break
          }
          const q = this.channels.get(m.channel)
          if (!q) {
            this.metrics.messagesDropped.inc({ peer: this.hex, message: label, reason: 'unknown_channel' })
            break
          }
          const turn = this.#throttle(this.#channelLimit(m.channel, q), label)
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
    this.metrics.release(this.#tally)
    this.#abort?.abort(new Error('peer ended'))
    this.conn.close()
    this.#kick()
    for (const w of this.#space.splice(0)) w()
  }
}

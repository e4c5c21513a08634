/**
 * `Network`: an authenticated p2p network over a fixed, known set of peers (commonware-p2p 0.0.25's
 * `authenticated`), wire-compatible with Rust nodes of that release.
 *
 * ## Design
 * `Network.create(ctx, cfg)` gives the network and its `Oracle` (peer sets, lookup-mode addresses,
 * blocks: oracle.ts). Channels
 * are registered before `start()`. Running parts, each a task on the context:
 * - listener: accepts at `cfg.listen` and admits or refuses each connection at once (admission.ts:
 *   handshakes in progress, per-IP and per-subnet limits, the global incoming rate); for an admitted
 *   one, screens the claimed key (not blocked, tracked, from its registered IP in lookup mode, not
 *   connected, under its rate) before verifying the
 *   signature, reserves the key with the tracker (tie-break with our own dial: tracker.ts), and only
 *   then answers;
 * - dialer: every random [0, dialFrequencyMs), dials each dialable peer (learned, bootstrap or, in
 *   lookup mode, registered address) that is not connected or blocked, under the global dial quota;
 *   each round first closes connections to discovery-only bootstrappers once discovery no longer
 *   needs them (`Config.bootstrappersOutsideSets`), which are kept apart from the routed peers;
 * - one `PeerConnection` per connection (gossip, queues, receive loop), registered with the router;
 * - router: resolves `Recipients` to connected peers (never ourselves) and queues the message.
 *
 * ## Not provided
 * Delivery guarantees: `send` resolves with the peers a message was queued for; a peer that drops
 * mid-way loses what was queued. No NAT traversal or relaying: peers must reach each other directly.
 *
 * ## Example
 * ```ts
 * const { network, oracle } = Network.create(ctx, Config.test(signer, ns, '127.0.0.1:3000', [], 1 << 20))
 * oracle.register(0n, keys)
 * const [sender, receiver] = network.register(0, Quota.perSecond(100), 1024)
 * const handle = network.start()
 * ```
 */
import { encodeSocket, type EncodedData, peerRecordPayload, IP_SUFFIX, TRACKER_SUFFIX, STREAM_SUFFIX, withSuffix, type Peer } from '../codec/index.js'
import { ClosedError, InvalidArgumentError, PeerRefusedError, isP2pError, type HandshakeError, type HandshakeReason } from '../errors.js'
import type { Connection, Context, Handle } from '../runtime/context.js'
import { parseAddress } from '../runtime/context.js'
import { StreamConfig, upgradeDialer, upgradeListener, verifyIncoming, type EncryptedConnection, type HandshakeTiming } from '../stream/index.js'
import type { Quota } from '../utils/quota.js'
import { RateLimiter } from '../utils/ratelimit.js'
import { Admission, type Ticket } from './admission.js'
import { CompressionUnavailableError } from '../errors.js'
import { binding } from '../native/load.js'
import { ChannelQueue, ChannelSender, type ChannelOptions, type Routes } from './channels.js'
import { verifyConfig, type Config } from './config.js'
import { Metrics } from './metrics.js'
import { Oracle, type OracleHooks } from './oracle.js'
import { PeerConnection, type Overflow, type Placement } from './peer.js'
import { PeerTable, keyHexOf } from './peers.js'
import { Tracker, shuffle, type Reservation } from './tracker/tracker.js'
import type { Channel, Receiver, Recipients, Sender, SendOutcome } from './types.js'

/** What `Network.start` returns: the listener's bind result and a way to stop the network. */
export interface NetworkHandle {
  /**
   * Resolves with the bound address once the listener is up; rejects (with `ERR_CLOSED` naming the
   * address) if it cannot bind, e.g. the port is in use. The network keeps dialing either way.
   */
  readonly listening: Promise<string>
  /** Stop every task and close every connection; resolves when all have ended. */
  stop(): Promise<void>
}

const PROTOBUF_OVERHEAD = 64
const OVERFLOWS: Overflow[] = ['wait', 'drop-newest', 'drop-oldest']

/** An authenticated network of a fixed, known set of peers; create one with `Network.create`. */
export class Network {
  readonly #channels = new Map<number, ChannelQueue>()
  readonly #peers = new PeerTable<PeerConnection>()
  /** Connections to discovery-only bootstrappers outside every tracked set: never routed to, not in `connected()`. */
  readonly #discoveryOnly = new Map<string, PeerConnection>()
  readonly #tasks: Handle<unknown>[] = []
  /** Each connected peer's run, removed when it ends (a node with churn does not accumulate them). */
  readonly #peerTasks = new Set<Promise<void>>()
  /** Waiters of `whenPeers` (`holds`) and `whenConnected` (`count`: no key list needed, O(1) per check). */
  readonly #watchers: { holds?: (connected: Uint8Array[]) => boolean; count?: number; resolve: () => void }[] = []
  readonly #stream: StreamConfig
  readonly #admission: Admission
  #started = false

  private constructor(
    private readonly ctx: Context,
    /** The configuration the network was created with (verified). */
    readonly cfg: Config,
    private readonly tracker: Tracker,
    /** The network's Prometheus metrics, registered on the context's registry. */
    readonly metrics: Metrics,
  ) {
    this.#stream = {
      ...StreamConfig.recommended(cfg.signer, withSuffix(cfg.namespace, STREAM_SUFFIX), cfg.maxMessageSize + PROTOBUF_OVERHEAD),
      synchronyBoundMs: cfg.synchronyBoundMs,
      maxHandshakeAgeMs: cfg.maxHandshakeAgeMs,
      handshakeTimeoutMs: cfg.handshakeTimeoutMs,
    }
    this.#admission = new Admission(cfg)
    metrics.queuedBytes = () => [...this.#peers.values()].map((p) => [p.hex, p.queuedBytes])
    metrics.setRatios = () => {
      const dir = this.tracker.directory
      const out: [bigint, 'tracked' | 'next', number][] = dir.sets.map((s) => [s.index, 'tracked', this.#ratio(s.sorted)])
      if (dir.next) out.push([dir.next.index, 'next', this.#ratio(dir.next.sorted)])
      return out
    }
  }

  /**
   * A network on `ctx` (not started) with its oracle; signs our peer record for `cfg.dialable`.
   * Throws `InvalidConfigError` naming the first field of `cfg` out of bounds.
   */
  static create(
    ctx: Context,
    cfg: Config,
  ): {
    /** The network: register channels on it, then `start()` it. */
    network: Network
    /** The oracle that registers the peer sets the network may connect to. */
    oracle: Oracle
  } {
    verifyConfig(cfg)
    const ipNamespace = withSuffix(withSuffix(cfg.namespace, TRACKER_SUFFIX), IP_SUFFIX)
    const { host, port } = parseAddress(cfg.dialable)
    const socket = encodeSocket({ host, port })
    const timestamp = BigInt(Math.floor(ctx.now()))
    const myRecord: Peer = {
      socket,
      timestamp,
      signature: { publicKey: cfg.signer.publicKey, signature: cfg.signer.sign(ipNamespace, peerRecordPayload(socket, timestamp)) },
    }
    const metrics = new Metrics(ctx.registry)
    const tracker = new Tracker(ctx, cfg, myRecord, ipNamespace)
    const network = new Network(ctx, cfg, tracker, metrics)
    metrics.blockedCount = () => tracker.blockedCount
    return { network, oracle: new Oracle(ctx, cfg, tracker, metrics, network.#hooks) }
  }

  /**
   * Register a channel before `start()`; `compression` is a zstd level (both sides must agree).
   * Throws `CompressionUnavailableError` when `compression` is set and no zstd could be loaded.
   */
  register(channel: Channel, quota: Quota, backlog: number, options?: number | ChannelOptions): [Sender, Receiver] {
    const { compression, overflow = 'wait' } = typeof options === 'number' ? { compression: options } : (options ?? {})
    if (!OVERFLOWS.includes(overflow)) throw new InvalidArgumentError(`overflow must be one of ${OVERFLOWS.join(', ')}, got ${String(overflow)}`)
    if (this.#started) throw new InvalidArgumentError('channels must be registered before start()')
    if (!Number.isInteger(channel) || channel < 0 || channel > 0xffff_ffff) throw new InvalidArgumentError(`channel must be a u32, got ${channel}`)
    if (this.#channels.has(channel)) throw new InvalidArgumentError(`channel ${channel} is already registered`)
    if (!Number.isInteger(backlog) || backlog < 1) throw new InvalidArgumentError(`backlog must be a positive integer, got ${backlog}`)
    if (compression !== undefined) {
      const zstd = binding.zstdStatus()
      if (zstd.engine === null) throw new CompressionUnavailableError(zstd.detail ?? 'no zstd engine', channel)
    }
    const spec = { channel, quota, backlog, compression, overflow }
    const queue = new ChannelQueue(spec, this.cfg.maxMessageSize, this.metrics)
    this.#channels.set(channel, queue)
    return [new ChannelSender(spec, this.cfg.maxMessageSize, this.#routes), queue]
  }

  /** Keys of the peers currently connected. */
  connected(): Uint8Array[] {
    return [...this.#peers.values()].map((p) => p.peer)
  }

  /** Resolves once at least `count` peers are connected at the same time (no polling needed). */
  whenConnected(count: number): Promise<void> {
    if (this.#peers.size >= count) return Promise.resolve()
    return new Promise((resolve) => this.#watchers.push({ count, resolve }))
  }

  /** Resolves once `holds(connected keys)` is true; checked at every connect and disconnect. */
  whenPeers(holds: (connected: Uint8Array[]) => boolean): Promise<void> {
    if (holds(this.connected())) return Promise.resolve()
    return new Promise((resolve) => this.#watchers.push({ holds, resolve }))
  }

  /**
   * The fraction of the announced next peer set's keys (ourselves excluded) connected now, from 0 to
   * 1 (1 for a set with no other key); undefined when no set is announced (`Oracle.announce`) or once
   * it was registered. Also exported per set as `peer_set_connected_ratio`.
   */
  readiness(): number | undefined {
    const next = this.tracker.directory.next
    return next && this.#ratio(next.sorted)
  }

  #ratio(keys: Uint8Array[]): number {
    const me = keyHexOf(this.cfg.signer.publicKey)
    let others = 0
    let up = 0
    for (const k of keys) {
      const h = keyHexOf(k)
      if (h === me) continue
      others++
      if (this.#peers.has(h)) up++
    }
    return others === 0 ? 1 : up / others
  }

  /**
   * What the handshake of the connection to `key` measured: the peer's clock skew and, if we dialed
   * it, the round trip (see `HandshakeTiming`); undefined when `key` is not connected. Exported as
   * `peer_clock_skew_ms` and `peer_handshake_rtt_ms`; a skew beyond half of `synchronyBoundMs`
   * counts in `clock_skew_warnings`.
   */
  handshakeTiming(key: Uint8Array): HandshakeTiming | undefined {
    return this.#peers.byKey(key)?.conn.timing
  }

  /** Export what `peer`'s handshake measured; warn (count) past half the synchrony bound. */
  #recordTiming(peer: PeerConnection): void {
    const t = peer.conn.timing
    if (!t) return
    this.metrics.peerClockSkew.set({ peer: peer.hex }, Math.round(t.skewMs))
    if (t.rttMs !== undefined) this.metrics.peerHandshakeRtt.set({ peer: peer.hex }, t.rttMs)
    if (Math.abs(t.skewMs) > this.cfg.synchronyBoundMs / 2) this.metrics.clockSkewWarnings.inc({ peer: peer.hex })
  }

  #notify(): void {
    if (this.#watchers.length === 0) return
    let keys: Uint8Array[] | undefined
    for (const w of [...this.#watchers]) {
      if (w.count !== undefined ? this.#peers.size >= w.count : w.holds!((keys ??= this.connected()))) {
        this.#watchers.splice(this.#watchers.indexOf(w), 1)
        w.resolve()
      }
    }
  }

  /**
   * Start listening at `cfg.listen` and dialing tracked peers; throws `InvalidArgumentError` if the
   * network was already started.
   */
  start(): NetworkHandle {
    if (this.#started) throw new InvalidArgumentError('network already started')
    this.#started = true
    const listening = this.ctx.listen(this.cfg.listen)
    this.#tasks.push(this.ctx.spawn('listener', (signal) => this.#listen(listening, signal)))
    this.#tasks.push(this.ctx.spawn('dialer', (signal) => this.#dial(signal)))
    this.#tasks.push(this.ctx.spawn('gossip', (signal) => this.#gossip(signal)))
    const bound = listening.then((l) => l.address)
    bound.catch(() => undefined) // handled here; callers who await it still see the error
    return {
      listening: bound,
      stop: async () => {
        for (const t of this.#tasks) t.abort(new Error('stopped'))
        for (const p of this.#peers.values()) p.conn.close()
        for (const p of this.#discoveryOnly.values()) p.conn.close()
        this.metrics.blockedCount = () => 0
        ;(await listening.catch(() => undefined))?.close()
        for (const q of this.#channels.values()) q.close()
        await Promise.allSettled([...this.#tasks.map((t) => t.done), ...this.#peerTasks])
      },
    }
  }

  readonly #routes: Routes = {
    send: (r, c, p, prio, overflow, key, ttlMs) => this.#route(r, c, p, prio, overflow, key === undefined && ttlMs === undefined ? undefined : this.#placement(c, key, ttlMs)),
    offer: (r, c, p, prio, key, ttlMs) => this.#offer(r, c, p, prio, key === undefined && ttlMs === undefined ? undefined : this.#placement(c, key, ttlMs)),
    pace: () => this.ctx.pace(),
  }

  /** The connected peers `recipients` names, in sending order. */
  #targets(recipients: Recipients): readonly PeerConnection[] {
    if (recipients.kind === 'one') {
      const p = this.#peers.byKey(recipients.key)
      return p ? [p] : []
    }
    if (recipients.kind === 'all') return this.#peers.sorted()
    return recipients.keys.flatMap((k) => this.#peers.byKey(k) ?? [])
  }

  /** Where a message with a supersede `key` and/or `ttlMs` goes in each recipient's queue. */
  #placement(channel: Channel, key: string | undefined, ttlMs: number | undefined): Placement {
    return { slot: key === undefined ? undefined : `${channel}:${key}`, expiresAt: ttlMs === undefined ? Infinity : this.ctx.now() + ttlMs }
  }

  #route(recipients: Recipients, channel: Channel, data: EncodedData, priority: boolean, overflow: Overflow, place?: Placement): Uint8Array[] | Promise<Uint8Array[]> {
    if (recipients.kind === 'one') {
      const p = this.#peers.byKey(recipients.key)
      if (!p) return []
      const r = p.enqueue(channel, data, priority, overflow, place)
      if (r === true) return [p.peer]
      if (r === false) return []
      return r.then((ok) => (ok ? [p.peer] : []))
    }
    const targets = this.#targets(recipients)
    // Encoded once (by the sender), queued for every recipient (the bytes are never modified once queued).
    const queued = targets.map((p) => p.enqueue(channel, data, priority, overflow, place))
    if (queued.every((q) => typeof q === 'boolean')) return targets.filter((_, i) => queued[i]).map((p) => p.peer)
    return Promise.all(queued).then((ok) => targets.filter((_, i) => ok[i]).map((p) => p.peer))
  }

  #offer(recipients: Recipients, channel: Channel, data: EncodedData, priority: boolean, place?: Placement): SendOutcome {
    const out: SendOutcome = { queued: [], full: [], stalled: [] }
    for (const p of this.#targets(recipients)) {
      const r = p.offer(channel, data, priority, 'drop-newest', place)
      if (r !== 'closed') out[r].push(p.peer)
    }
    return out
  }

  readonly #hooks: OracleHooks = {
    disconnect: (pk, reason) => {
      const k = keyHexOf(pk)
      const p = this.#peers.get(k) ?? this.#discoveryOnly.get(k)
      if (!p) return
      this.metrics.peersDisconnected.inc({ reason })
      // Out of the maps at once, so no send is routed to it; the reservation goes when its task ends.
      if (this.#peers.get(k) === p) this.#peers.delete(k)
      if (this.#discoveryOnly.get(k) === p) this.#discoveryOnly.delete(k)
      p.conn.close()
      this.#notify()
    },
    setsChanged: () => this.#sortBootstrappers(),
  }

  /** Whether `pk` is a bootstrapper outside every tracked set that the config uses for discovery only. */
  #isDiscoveryOnly(pk: Uint8Array): boolean {
    return this.cfg.bootstrappersOutsideSets === 'discovery-only' && this.tracker.directory.isBootstrapperOutsideSets(pk)
  }

  /**
   * Move each connection to the map its key now belongs in (a bootstrapper leaving or joining every
   * tracked set), and close discovery-only connections once discovery no longer needs them.
   */
  #sortBootstrappers(): void {
    if (this.cfg.bootstrappersOutsideSets !== 'discovery-only') return
    for (const p of [...this.#peers.values(), ...this.#discoveryOnly.values()]) {
      const only = this.#isDiscoveryOnly(p.peer)
      p.discoveryOnly = only
      if (only && this.#peers.get(p.hex) === p) {
        this.#peers.delete(p.hex)
        this.#discoveryOnly.set(p.hex, p)
      } else if (!only && this.#discoveryOnly.get(p.hex) === p) {
        this.#discoveryOnly.delete(p.hex)
        this.#peers.set(p.hex, p)
      }
    }
    if (this.#discoveryOnly.size > 0 && !this.tracker.directory.needsBootstrap()) {
      for (const p of this.#discoveryOnly.values()) this.#hooks.disconnect(p.peer, 'bootstrapper_done')
    }
    this.#notify()
  }

  /** Run a connection until it ends, then release its reservation. */
  #spawnPeer(conn: EncryptedConnection, reservation: Reservation): void {
    reservation.markConnected()
    const peer = new PeerConnection(this.ctx, this.cfg, conn, this.tracker, this.#channels, this.metrics)
    peer.discoveryOnly = this.#isDiscoveryOnly(peer.peer)
    ;(peer.discoveryOnly ? this.#discoveryOnly : this.#peers).set(peer.hex, peer)
    this.#recordTiming(peer)
    this.#notify()
    // Not a `ctx.spawn` task: a connection ends when its socket closes (`stop` closes them all), so it
    // needs no abort signal, and a node with a thousand peers does not carry a thousand of them.
    const ended = (): void => {
      if (this.#peers.get(peer.hex) === peer) this.#peers.delete(peer.hex)
      if (this.#discoveryOnly.get(peer.hex) === peer) this.#discoveryOnly.delete(peer.hex)
      if (!this.#peers.has(peer.hex) && !this.#discoveryOnly.has(peer.hex)) {
        this.metrics.peerClockSkew.remove({ peer: peer.hex })
        this.metrics.peerHandshakeRtt.remove({ peer: peer.hex })
      }
      this.tracker.release(reservation)
      this.metrics.connections.set(this.tracker.reservations)
      this.#notify()
      this.#peerTasks.delete(done)
    }
    const done: Promise<void> = peer.run().then(ended, ended)
    this.#peerTasks.add(done)
  }

  /** The gossip timer: every `gossipBitVecFrequencyMs`, one tick for each connected peer (peer.ts). */
  async #gossip(signal: AbortSignal): Promise<void> {
    // The first tick comes at a random point of the interval, so networks started together (a
    // simulation of a validator set, a cluster restarted at once) do not all gossip at the same
    // instant: at N = 1,000 in one process that was N^2 bit vectors and their answers at once.
    let wait = 1 + this.ctx.randomInt(this.cfg.gossipBitVecFrequencyMs)
    while (!signal.aborted) {
      await this.ctx.sleep(wait, signal).catch(() => undefined)
      wait = this.cfg.gossipBitVecFrequencyMs
      if (signal.aborted) return
      // A thousand bit vectors at once would hold the event loop: let it turn when due (pace()).
      const tick = new Map<bigint, Uint8Array>()
      for (const p of [...this.#peers.values(), ...this.#discoveryOnly.values()]) {
        p.gossip(tick)
        const turn = this.ctx.pace()
        if (turn) await turn
      }
    }
  }

  /**
   * Accept every connection at once and decide it at once (admission.ts): refused ones are closed
   * before a byte is read, admitted ones start their handshake, whose deadline runs from here.
   * Nothing waits in a queue.
   */
  async #listen(listening: ReturnType<Context['listen']>, signal: AbortSignal): Promise<void> {
    const listener = await listening
    signal.addEventListener('abort', () => listener.close(), { once: true })
    for (;;) {
      const socket = await listener.accept()
      if (!socket) return
      const ticket = this.#admission.admit(socket.remote, this.ctx.now())
      if (typeof ticket === 'string') {
        socket.sink.close()
        this.metrics.handshakesRefused.inc({ reason: ticket })
        continue
      }
      this.metrics.handshakesPending.set(this.#admission.pending)
      void this.#handshake(socket, ticket)
    }
  }

  /** An admitted inbound connection: verify, screen and reserve its key, then answer. */
  async #handshake(socket: Connection, ticket: Ticket): Promise<void> {
    const deadline = this.ctx.now() + this.cfg.handshakeTimeoutMs
    try {
      const verified = await verifyIncoming(this.ctx, this.#stream, socket, (pk) => this.tracker.screenInbound(pk, ticket.ip))
      // Leave a quarter of the handshake window to answer in if our own dial to this key is slow.
      const claim = await this.tracker.claimInbound(verified.peer, deadline - this.cfg.handshakeTimeoutMs / 4, ticket.ip)
      if (typeof claim === 'string') {
        socket.sink.close()
        this.metrics.handshakesRefused.inc({ reason: claim })
        return
      }
      this.metrics.connections.set(this.tracker.reservations)
      try {
        this.#spawnPeer(await upgradeListener(this.ctx, verified), claim)
      } catch (e) {
        this.tracker.release(claim)
        this.metrics.connections.set(this.tracker.reservations)
        throw e
      }
    } catch (e) {
      this.metrics.handshakesRefused.inc({ reason: refusalReason(e) })
    } finally {
      ticket.done()
      this.metrics.handshakesPending.set(this.#admission.pending)
    }
  }

  async #dial(signal: AbortSignal): Promise<void> {
    const rate = new RateLimiter()
    rate.define(0, this.cfg.dialRate)
    while (!signal.aborted) {
      this.#sortBootstrappers()
      for (const target of shuffle(this.ctx, this.tracker.dialable())) {
        if (rate.check(0, 0, this.ctx.now()) !== 0) break
        const reservation = this.tracker.reserveDial(target.publicKey)
        if (!reservation) continue
        this.metrics.connections.set(this.tracker.reservations)
        this.ctx.spawn('dial', () => this.#dialOne(target, reservation))
      }
      await this.ctx.sleep(this.ctx.randomInt(this.cfg.dialFrequencyMs), signal).catch(() => undefined)
    }
  }

  /**
   * One outbound dial. An inbound connection from the same key that wins the tie (tracker.ts) cancels
   * it: its socket is closed and the connection, if it completes anyway, is dropped unused.
   */
  async #dialOne(target: { publicKey: Uint8Array; address: string }, reservation: Reservation): Promise<void> {
    let socket: Connection | undefined
    let cancelled = false
    reservation.onCancel(() => {
      cancelled = true
      socket?.sink.close()
    })
    try {
      socket = await this.ctx.dial(target.address)
      if (cancelled) throw new ClosedError('dial cancelled')
      const conn = await upgradeDialer(this.ctx, this.#stream, socket, target.publicKey)
      if (cancelled || !this.tracker.holds(reservation)) {
        conn.close()
        throw new ClosedError('dial cancelled')
      }
      this.#spawnPeer(conn, reservation)
      this.metrics.dialAttempts.inc({ outcome: 'connected' })
    } catch {
      this.metrics.dialAttempts.inc({ outcome: cancelled ? 'cancelled' : 'failed' })
      socket?.sink.close()
      this.tracker.release(reservation)
      this.metrics.connections.set(this.tracker.reservations)
    }
  }
}

/** The `handshakes_refused` reason of an inbound handshake that failed with `e`. */
function refusalReason(e: unknown): string {
  if (e instanceof PeerRefusedError) return e.reason
  if (isP2pError(e, 'ERR_HANDSHAKE_TIMEOUT')) return 'timeout'
  if (isP2pError(e, 'ERR_AUTH_FAILED')) return HANDSHAKE_REASONS[(e as HandshakeError).reason]
  return isP2pError(e) ? e.code.slice(4).toLowerCase() : 'error'
}

/** A snake_case `handshakes_refused` reason for each of the reference's handshake errors. */
const HANDSHAKE_REASONS: Record<HandshakeReason, string> = {
  UnableToDecode: 'undecodable',
  InvalidEphemeralPublicKey: 'bad_ephemeral_key',
  InvalidChannelPublicKey: 'bad_recipient_key',
  HandshakeNotForUs: 'not_for_us',
  InvalidTimestampOld: 'stale_timestamp',
  InvalidTimestampFuture: 'future_timestamp',
  MissingSignature: 'missing_signature',
  InvalidPeerPublicKey: 'bad_peer_key',
  InvalidSignature: 'bad_signature',
  WrongPeer: 'wrong_peer',
  RecvFailed: 'recv_failed',
  SendFailed: 'send_failed',
  CipherCreationFailed: 'cipher_failed',
}

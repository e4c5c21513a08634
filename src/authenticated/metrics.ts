/**
 * Prometheus metrics of an authenticated network (the reference's metric set, plus bytes and backend).
 *
 * ## Design
 * Counters are labelled with `peer` (hex key) and `message` (channel id, or -1 for bit vectors, -2 for
 * Peers, as in the reference). Registered on the context's registry (or the one in the config).
 * The per-message counters (`messages_sent`, `messages_received`, `bytes_sent`, `bytes_received`) are
 * counted in a `PeerTally` per connection, plain number fields, and folded into prom-client
 * whenever the counter is read (scrape or `get()`): hashing labels for every message cost about a tenth
 * of the per-message CPU time.
 */
import { Counter, Gauge, type LabelValues, type Registry } from 'prom-client'
import { backend } from '../native/load.js'

/** One `message` label's count in a `PeerTally` (a short list: a connection uses a few labels). */
export class LabelCount {
  /** Not yet folded into the counter. */
  n = 0
  constructor(
    readonly message: string,
    readonly next: LabelCount | undefined,
  ) {}
}

/** The count of `message` in the list from `head`, if it has one. */
function labelCount(head: LabelCount | undefined, message: string): LabelCount | undefined {
  for (let c = head; c; c = c.next) if (c.message === message) return c
  return undefined
}

/** Which of the four per-message counters a fold is for. */
type Kind = 'sent' | 'received' | 'bytesSent' | 'bytesReceived'

/**
 * The per-message counts of one connection, kept in plain fields on the hot path and folded into
 * `messages_sent`, `messages_received`, `bytes_sent` and `bytes_received` when a counter is read: one
 * object per connection (its labels are made at fold time), not one tally and label object per counter
 * and label (a thousand-node simulation holds a million connections).
 */
export class PeerTally {
  /** Not yet folded, as each `LabelCount.n`. */
  bytesSent = 0
  bytesReceived = 0
  /** Messages sent and received by `message` label. */
  sent: LabelCount | undefined = undefined
  received: LabelCount | undefined = undefined
  constructor(
    /** The `peer` label (hex key). */
    readonly peer: string,
  ) {}

  /** The count of messages sent with `message`, created on first use. */
  sentCount(message: string): LabelCount {
    return labelCount(this.sent, message) ?? (this.sent = new LabelCount(message, this.sent))
  }

  /** The count of messages received with `message`, created on first use. */
  receivedCount(message: string): LabelCount {
    return labelCount(this.received, message) ?? (this.received = new LabelCount(message, this.received))
  }

  /** Add what `kind` counted since the last fold to `counter`. */
  fold(counter: Counter<string>, kind: Kind): void {
    if (kind === 'bytesSent' || kind === 'bytesReceived') {
      if (this[kind] > 0) counter.inc({ peer: this.peer }, this[kind])
      this[kind] = 0
      return
    }
    for (let c = this[kind]; c; c = c.next) {
      if (c.n > 0) counter.inc({ peer: this.peer, message: c.message }, c.n)
      c.n = 0
    }
  }
}

/** The live tallies each per-message counter folds at read time, and which of their counts it takes. */
const folds = new WeakMap<Counter<string>, { kind: Kind; tallies: Set<PeerTally> }>()
/** The live tallies of the networks on one registry (whose counters they share). */
const registryTallies = new WeakMap<Registry, Set<PeerTally>>()

function fold(counter: Counter<string>): void {
  const f = folds.get(counter)
  if (f) for (const t of f.tallies) t.fold(counter, f.kind)
}

/** The networks whose queues a `peer_queued_bytes` gauge reports (several may share a registry). */
const queuedSources = new WeakMap<Gauge<'peer'>, Set<Metrics>>()
/** The networks whose peer sets a `peer_set_connected_ratio` gauge reports. */
const ratioSources = new WeakMap<Gauge<'index' | 'set'>, Set<Metrics>>()
/** The networks whose blocks a `blocked_peers` gauge adds up. */
const blockedSources = new WeakMap<Gauge, Set<Metrics>>()

export const BITVEC = '-1'
export const PEERS = '-2'

/**
 * The Prometheus metrics of one authenticated network. `message` labels are channel ids, or -1 for
 * bit vectors and -2 for Peers messages; `peer` labels are hex public keys.
 */
export class Metrics {
  /** `messages_sent`: messages written to a connection, by peer and message type. */
  readonly messagesSent: Counter<'peer' | 'message'>
  /** `messages_received`: messages received, by peer and message type. */
  readonly messagesReceived: Counter<'peer' | 'message'>
  /** `messages_rate_limited`: received messages delayed by an inbound rate limit, by peer and message type. */
  readonly messagesRateLimited: Counter<'peer' | 'message'>
  /** `messages_dropped`: messages dropped, by peer, message type and reason (e.g. `unknown_channel`, `decompression_failed`). */
  readonly messagesDropped: Counter<'peer' | 'message' | 'reason'>
  /** `bytes_sent`: frame bytes written, by peer. */
  readonly bytesSent: Counter<'peer'>
  /** `bytes_received`: message bytes received, by peer. */
  readonly bytesReceived: Counter<'peer'>
  /** `connections`: reserved connections, including dials in progress. */
  readonly connections: Gauge
  /** `tracked_peers`: keys in the address book. */
  readonly trackedPeers: Gauge
  /** `dial_attempts`: outbound dials, by outcome (`connected` or `failed`). */
  readonly dialAttempts: Counter<'outcome'>
  /** `peers_killed`: connections ended for a protocol violation, by reason. */
  readonly peersKilled: Counter<'reason'>
  /** `handshakes_refused`: inbound connections refused, at accept or during the handshake, by reason. */
  readonly handshakesRefused: Counter<'reason'>
  /** `handshakes_pending`: inbound handshakes in progress (admitted, not yet answered or refused). */
  readonly handshakesPending: Gauge
  /**
   * `peers_disconnected`: connections this node closed for a reason that is not a protocol violation:
   * `blocked` (`Oracle.block`), `address_changed` (lookup mode: the key moved), `bootstrapper_done`
   * (a discovery-only bootstrapper no longer needed).
   */
  readonly peersDisconnected: Counter<'reason'>
  /** `blocked_peers`: keys blocked right now (`Oracle.block`, not yet expired or lifted; read at scrape). */
  readonly blockedPeers: Gauge
  /**
   * What `blocked_peers` reports for this network at each scrape.
   * @internal set by the network
   */
  blockedCount: () => number = () => 0
  /** `peer_queued_bytes`: bytes of data messages queued for each connected peer, not yet written (read at scrape). */
  readonly peerQueuedBytes: Gauge<'peer'>
  /**
   * What `peer_queued_bytes` reports at each scrape: (peer hex, bytes) of every live connection.
   * @internal set by the network
   */
  queuedBytes: () => Iterable<[string, number]> = () => []
  /**
   * `peer_clock_skew_ms`: each connected peer's clock minus ours, ms, measured from its handshake
   * timestamp (positive: the peer is ahead; see `HandshakeTiming`).
   */
  readonly peerClockSkew: Gauge<'peer'>
  /** `peer_handshake_rtt_ms`: round trip of the handshake of each connected peer we dialed, ms. */
  readonly peerHandshakeRtt: Gauge<'peer'>
  /**
   * `clock_skew_warnings`: connections whose peer's clock was off from ours by more than half of
   * `synchronyBoundMs`, by peer: at the bound its handshakes (or ours, at its end) are refused.
   */
  readonly clockSkewWarnings: Counter<'peer'>
  /**
   * `peer_set_connected_ratio`: the fraction of each peer set's keys (ourselves excluded) connected
   * now, by set `index` and `set` (`tracked` for a registered set, `next` for the announced one);
   * read at scrape.
   */
  readonly peerSetConnectedRatio: Gauge<'index' | 'set'>
  /**
   * What `peer_set_connected_ratio` reports for this network at each scrape.
   * @internal set by the network
   */
  setRatios: () => Iterable<[index: bigint, set: 'tracked' | 'next', ratio: number]> = () => []

  /**
   * Registers the metrics on `registry`, reusing any metric of the same name already registered
   * there, and sets the `p2p_backend_native` gauge (1 on the Rust addon, 0 on the fallback).
   */
  constructor(registry: Registry) {
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      (registry.getSingleMetric(name) as Counter<L> | undefined) ??
      new Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect(this: Counter<L>) {
          fold(this as Counter<string>)
        },
      })
    const gauge = (name: string, help: string) => (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [registry] })
    this.messagesSent = counter('messages_sent', 'messages sent, by peer and message type', ['peer', 'message'])
    this.messagesReceived = counter('messages_received', 'messages received, by peer and message type', ['peer', 'message'])
    this.messagesRateLimited = counter('messages_rate_limited', 'messages delayed by an inbound rate limit', ['peer', 'message'])
    this.messagesDropped = counter('messages_dropped', 'messages dropped, with the reason', ['peer', 'message', 'reason'])
    this.bytesSent = counter('bytes_sent', 'frame bytes written, by peer', ['peer'])
    this.bytesReceived = counter('bytes_received', 'message bytes received, by peer', ['peer'])
    let live = registryTallies.get(registry)
    if (!live) registryTallies.set(registry, (live = new Set()))
    this.#tallies = live
    this.#perMessage = [
      [this.messagesSent as Counter<string>, 'sent'],
      [this.messagesReceived as Counter<string>, 'received'],
      [this.bytesSent as Counter<string>, 'bytesSent'],
      [this.bytesReceived as Counter<string>, 'bytesReceived'],
    ]
    for (const [c, kind] of this.#perMessage) if (!folds.has(c)) folds.set(c, { kind, tallies: live })
    this.connections = gauge('connections', 'reserved connections (including dials in progress)')
    this.trackedPeers = gauge('tracked_peers', 'keys in the address book')
    this.dialAttempts = counter('dial_attempts', 'outbound dials, by outcome', ['outcome'])
    this.peersKilled = counter('peers_killed', 'connections ended for a protocol violation, by reason', ['reason'])
    this.handshakesRefused = counter('handshakes_refused', 'inbound connections refused (at accept or in the handshake), by reason', ['reason'])
    this.handshakesPending = gauge('handshakes_pending', 'inbound handshakes in progress')
    this.peersDisconnected = counter('peers_disconnected', 'connections closed by this node for a reason other than a protocol violation', ['reason'])
    this.blockedPeers =
      (registry.getSingleMetric('blocked_peers') as Gauge | undefined) ??
      new Gauge({
        name: 'blocked_peers',
        help: 'keys blocked right now (not yet expired or lifted)',
        registers: [registry],
        collect(this: Gauge) {
          let n = 0
          for (const m of blockedSources.get(this) ?? []) n += m.blockedCount()
          this.set(n)
        },
      })
    let blocked = blockedSources.get(this.blockedPeers)
    if (!blocked) blockedSources.set(this.blockedPeers, (blocked = new Set()))
    blocked.add(this)
    this.peerQueuedBytes =
      (registry.getSingleMetric('peer_queued_bytes') as Gauge<'peer'> | undefined) ??
      new Gauge({
        name: 'peer_queued_bytes',
        help: 'bytes of data messages queued for a peer, not yet written',
        labelNames: ['peer'],
        registers: [registry],
        collect(this: Gauge<'peer'>) {
          this.reset()
          for (const m of queuedSources.get(this) ?? []) for (const [peer, bytes] of m.queuedBytes()) this.set({ peer }, bytes)
        },
      })
    let sources = queuedSources.get(this.peerQueuedBytes)
    if (!sources) queuedSources.set(this.peerQueuedBytes, (sources = new Set()))
    sources.add(this)
    const labelled = <L extends string>(name: string, help: string, labelNames: L[]) =>
      (registry.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames, registers: [registry] })
    this.peerClockSkew = labelled('peer_clock_skew_ms', "a connected peer's clock minus ours, ms, from its handshake timestamp", ['peer'])
    this.peerHandshakeRtt = labelled('peer_handshake_rtt_ms', 'handshake round trip of a peer we dialed, ms', ['peer'])
    this.clockSkewWarnings = counter('clock_skew_warnings', "connections whose peer's clock was off by more than half the synchrony bound", ['peer'])
    this.peerSetConnectedRatio =
      (registry.getSingleMetric('peer_set_connected_ratio') as Gauge<'index' | 'set'> | undefined) ??
      new Gauge({
        name: 'peer_set_connected_ratio',
        help: "fraction of a peer set's keys (ourselves excluded) connected now, by index and set (tracked or next)",
        labelNames: ['index', 'set'],
        registers: [registry],
        collect(this: Gauge<'index' | 'set'>) {
          this.reset()
          for (const m of ratioSources.get(this) ?? []) for (const [index, set, ratio] of m.setRatios()) this.set({ index: String(index), set }, ratio)
        },
      })
    let ratios = ratioSources.get(this.peerSetConnectedRatio)
    if (!ratios) ratioSources.set(this.peerSetConnectedRatio, (ratios = new Set()))
    ratios.add(this)
    const b = gauge('p2p_backend_native', '1 when the Rust addon runs the hot paths, 0 on the TypeScript fallback')
    b.set(backend === 'native' ? 1 : 0)
  }

  /** The live tallies of this registry's networks. */
  readonly #tallies: Set<PeerTally>
  /** The per-message counters, each with the count of a tally it takes. */
  readonly #perMessage: readonly (readonly [Counter<string>, Kind])[]

  /**
   * The tally of a new connection to `peer` (hex); `release` it when the connection ends.
   * @internal used by the network's connections
   */
  tally(peer: string): PeerTally {
    const t = new PeerTally(peer)
    this.#tallies.add(t)
    return t
  }

  /**
   * Fold `t` into the counters and stop tracking it.
   * @internal used by the network's connections
   */
  release(t: PeerTally): void {
    for (const [c, kind] of this.#perMessage) t.fold(c, kind)
    this.#tallies.delete(t)
  }
}

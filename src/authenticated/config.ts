/**
 * Configuration of an authenticated network (the reference's `authenticated::Config`), with its presets.
 *
 * ## Design
 * Every field of commonware-p2p 0.0.25's config, in TypeScript units (ms, `Quota`). Values with no safe
 * default (identity, namespace, listen address, bootstrappers, message size) are arguments of every
 * preset; the presets are the only place defaults live (STYLE.md 6). `recommended` and `aggressive`
 * copy the reference's constructors; `test` copies its unpublished `test()` constructor (fast timing,
 * for local clusters and tests). `verifyConfig` names the first bad field and its bound.
 *
 * ## Not provided
 * Hot reloading: a running network keeps the config it started with.
 *
 * ## Example
 * ```ts
 * const cfg = { ...Config.recommended(signer, ns, '0.0.0.0:3000', boot, 1 << 20), mailboxSize: 5000 }
 * ```
 */
import { InvalidConfigError } from '../errors.js'
import type { Signer } from '../crypto/scheme.js'
import { socketAddress } from '../codec/address.js'
import { parseAddress, type Address } from '../runtime/context.js'
import { Quota } from '../utils/quota.js'

/** A peer to dial at startup: its key and a configured address. */
export interface Bootstrapper {
  /** The peer's public key, of the signer's scheme. */
  publicKey: Uint8Array
  /** The peer's `host:port` address (an IP literal and a port). */
  address: Address
}

/**
 * Where a network gets peer addresses from: `discovery` (the reference's: bootstrappers and gossiped,
 * signed records) or `lookup` (the application gives an address with every key, e.g. read from chain).
 */
export type NetworkMode = 'discovery' | 'lookup'

/**
 * What a network does with a bootstrapper whose key is in none of the tracked peer sets: `keep` (the
 * reference's rule: it stays in the address book for ever, is dialed and kept connected, and its
 * Data is delivered) or `discovery-only` (it is dialed only while discovery needs it, its Data is
 * dropped, and its connection is closed once discovery no longer needs it).
 */
export type BootstrapperPolicy = 'keep' | 'discovery-only'

/** Every setting of an authenticated network; build one with a `Config` preset and override fields as needed. */
export interface Config {
  /** Our identity. */
  signer: Signer
  /** Application namespace; `_STREAM` and `_TRACKER_IP` are appended for signatures. Must match across peers. */
  namespace: Uint8Array
  /** Address to bind. Local. */
  listen: Address
  /** Address others should dial (signed into our peer record). The presets set it to `listen`. */
  dialable: Address
  /**
   * Peers dialed at startup. Never dropped from the address book (see `bootstrappersOutsideSets` for
   * one whose key leaves every tracked set). Must be empty in `lookup` mode. Local.
   */
  bootstrappers: Bootstrapper[]
  /**
   * `discovery`: addresses come from bootstrappers and gossip (the reference). `lookup`: the
   * application passes `[key, address]` pairs to `Oracle.register` and may move a key with
   * `Oracle.updateAddress`; nothing is learned from gossip, inbound connections are pinned to the
   * registered IP (see `allowInboundFromAnyIp`), and the bit vectors sent (the keep-alive the
   * reference's read timeout needs) have every bit set, so peers never answer with records. A lookup
   * node still answers a bit vector with its own signed record, so discovery-mode peers (Rust 0.0.25
   * included) can learn its address. Local: one network may mix both modes.
   */
  mode: NetworkMode
  /**
   * Lookup mode only: accept an inbound connection from a key whatever its source IP. By default
   * (false) a key may connect only from the IP of its registered address; any other source is refused
   * before the signature is checked (`handshakes_refused{reason="wrong_ip"}`). Set it when peers
   * connect out through NAT or an egress gateway whose IP differs from the address they listen on.
   * Local.
   */
  allowInboundFromAnyIp: boolean
  /**
   * What to do with a bootstrapper whose key is in none of the tracked sets (after an epoch change,
   * or a bootstrapper that never was a member): `keep` (the reference) or `discovery-only` (its Data
   * is dropped, `messages_dropped{reason="bootstrapper_data"}`, it is left out of `connected()` and of
   * every send, and it is dialed and kept connected only while some key of a tracked set has no known
   * address; once every key's address is known its connection is closed,
   * `peers_disconnected{reason="bootstrapper_done"}`). Local.
   */
  bootstrappersOutsideSets: BootstrapperPolicy
  /** How long `Oracle.block(key)` blocks a key when no `forMs` is given, ms. Local. */
  blockDurationMs: number
  /**
   * Whether the keys of the set announced with `Oracle.announce` are dialed, and accepted inbound,
   * before that set is registered; when false `announce` only measures readiness
   * (`Network.readiness`). A new member is reached early only if it announced the set too. Local.
   */
  preDialNextSet: boolean
  /**
   * Largest message payload, bytes (after compression). Must be at least every sender's. At least 256,
   * so that handshakes (which share the M + 64 frame limit) fit for every scheme.
   */
  maxMessageSize: number
  /** Whether gossiped records may carry private/loopback addresses; a violation kills the sender. Should match. */
  allowPrivateIps: boolean
  /** Capacity of each actor mailbox and each per-peer queue. Local. */
  mailboxSize: number
  /**
   * How long a peer's socket may accept no bytes at all, while a write to it is in progress, before a
   * full queue for that peer stops slowing senders down and drops instead
   * (`messages_dropped{reason="peer_stalled"}`), ms. A peer that reads, however slowly, is never
   * stalled: `send` waits for it. Local. Not in the reference, whose router waits on a full peer forever.
   */
  maxWriteStallMs: number
  /**
   * Bytes of data messages queued for one peer (encoded, not yet written) beyond which its queue counts
   * as full, like `mailboxSize` messages; one message is always accepted into an empty queue, so the
   * most held is this plus one message. Shown per peer in `peer_queued_bytes`. Local.
   */
  maxPeerQueueBytes: number
  /** How far ahead a peer's clock may be (handshakes and records), ms. Should match. */
  synchronyBoundMs: number
  /** How old a handshake may be, ms. Should match. */
  maxHandshakeAgeMs: number
  /** Deadline for a handshake, ms. Local. */
  handshakeTimeoutMs: number
  /** Connections per peer key (inbound or outbound) allowed by the per-peer GCRA. Local. */
  allowedConnectionRatePerPeer: Quota
  /**
   * Inbound connections accepted per period, over all sources; one over it is closed at accept
   * (`handshakes_refused{reason="global_rate"}`). Local.
   */
  allowedIncomingConnectionRate: Quota
  /** Inbound handshakes in progress at once; one more is closed at accept (`handshakes_full`). Local. */
  maxConcurrentHandshakes: number
  /** Inbound handshakes in progress at once from one IP; one more is closed at accept (`ip_busy`). Local. */
  maxConcurrentHandshakesPerIp: number
  /** Inbound connections accepted per period from one IP (`ip_rate`). Local. */
  allowedHandshakeRatePerIp: Quota
  /** Inbound connections accepted per period from one subnet, /24 IPv4 or /48 IPv6 (`subnet_rate`). Local. */
  allowedHandshakeRatePerSubnet: Quota
  /** Upper bound of the random wait between dial rounds, ms. Local. */
  dialFrequencyMs: number
  /** Outbound dials per period, over all peers. Local. */
  dialRate: Quota
  /** How many peer sets (by index) are tracked; the oldest are evicted. Local (0 counts as 1). */
  trackedPeerSets: number
  /** Gossip (bit vector) interval per connection; also the keep-alive, ms. Should match. */
  gossipBitVecFrequencyMs: number
  /** Bit vectors accepted per peer per period (excess is delayed, never dropped). Should match. */
  allowedBitVecRate: Quota
  /** Most records sent in, and accepted from, one Peers message. Must not exceed any peer's. */
  peerGossipMaxCount: number
  /** Peers messages accepted per peer per period (excess is delayed). Should match. */
  allowedPeersRate: Quota
}

/** Handshake frames share the M + 64 limit; a BLS handshake is about 230 bytes. */
const MIN_MESSAGE_SIZE = 256

/** The arguments of every `Config` preset: the values that have no safe default. */
export type PresetArgs = [signer: Signer, namespace: Uint8Array, listen: Address, bootstrappers: Bootstrapper[], maxMessageSize: number]

const base = (signer: Signer, namespace: Uint8Array, listen: Address, bootstrappers: Bootstrapper[], maxMessageSize: number) => ({
  signer,
  namespace,
  listen,
  dialable: listen,
  bootstrappers,
  maxMessageSize,
  mailboxSize: 1_000,
  maxWriteStallMs: 2_000,
  maxPeerQueueBytes: 16 << 20,
  synchronyBoundMs: 5_000,
  maxHandshakeAgeMs: 10_000,
  handshakeTimeoutMs: 5_000,
  trackedPeerSets: 4,
  peerGossipMaxCount: 32,
  mode: 'discovery' as NetworkMode,
  allowInboundFromAnyIp: false,
  bootstrappersOutsideSets: 'keep' as BootstrapperPolicy,
  preDialNextSet: true,
})

/** The presets: each returns a complete `Config` for the given identity, namespace, listen address, bootstrappers and message size (bytes). */
export const Config = {
  /** Production defaults (the reference's `recommended()`): slow gossip, private addresses refused. */
  recommended: (...args: PresetArgs): Config => ({
    ...base(...args),
    allowPrivateIps: false,
    allowedConnectionRatePerPeer: Quota.perMinute(1),
    allowedIncomingConnectionRate: Quota.perSecond(256),
    maxConcurrentHandshakes: 512,
    maxConcurrentHandshakesPerIp: 1,
    allowedHandshakeRatePerIp: Quota.perSecond(1).allowBurst(4),
    allowedHandshakeRatePerSubnet: Quota.perSecond(16),
    dialFrequencyMs: 60_000,
    dialRate: Quota.perMinute(30),
    gossipBitVecFrequencyMs: 50_000,
    allowedBitVecRate: Quota.perSecond(2),
    allowedPeersRate: Quota.perSecond(2),
    blockDurationMs: 3_600_000,
  }),
  /** Fast discovery for local clusters and demos (the reference's `aggressive()`). */
  aggressive: (...args: PresetArgs): Config => ({
    ...base(...args),
    allowPrivateIps: true,
    allowedConnectionRatePerPeer: Quota.perSecond(1),
    allowedIncomingConnectionRate: Quota.perSecond(256),
    maxConcurrentHandshakes: 512,
    maxConcurrentHandshakesPerIp: 16,
    allowedHandshakeRatePerIp: Quota.perSecond(64),
    allowedHandshakeRatePerSubnet: Quota.perSecond(256),
    dialFrequencyMs: 5_000,
    dialRate: Quota.perSecond(30),
    gossipBitVecFrequencyMs: 5_000,
    allowedBitVecRate: Quota.perSecond(5),
    allowedPeersRate: Quota.perSecond(5),
    blockDurationMs: 600_000,
  }),
  /** Test timing (the reference's unpublished `test()`): everything within about a second. */
  test: (...args: PresetArgs): Config => ({
    ...base(...args),
    allowPrivateIps: true,
    allowedConnectionRatePerPeer: Quota.perSecond(1024),
    allowedIncomingConnectionRate: Quota.perSecond(1024),
    maxConcurrentHandshakes: 1024,
    maxConcurrentHandshakesPerIp: 64,
    allowedHandshakeRatePerIp: Quota.perSecond(1024),
    allowedHandshakeRatePerSubnet: Quota.perSecond(1024),
    dialFrequencyMs: 1_000,
    dialRate: Quota.perSecond(1024),
    gossipBitVecFrequencyMs: 1_000,
    allowedBitVecRate: Quota.perSecond(5),
    allowedPeersRate: Quota.perSecond(5),
    blockDurationMs: 60_000,
  }),
}

function int(field: keyof Config, v: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new InvalidConfigError(field, `must be an integer in ${min}..${max}, got ${v}`)
}

function address(field: string, a: Address): void {
  try {
    const { host, port } = parseAddress(a)
    socketAddress(host, port)
  } catch {
    throw new InvalidConfigError(field, `must be an IP literal and port, got ${JSON.stringify(a)}`)
  }
}

/** Throws `InvalidConfigError` naming the first field out of bounds; returns the config. */
export function verifyConfig(c: Config): Config {
  if (!c.signer || typeof c.signer.sign !== 'function') throw new InvalidConfigError('signer', 'must be a Signer')
  if (!(c.namespace instanceof Uint8Array)) throw new InvalidConfigError('namespace', 'must be bytes')
  address('listen', c.listen)
  address('dialable', c.dialable)
  c.bootstrappers.forEach((b, i) => {
    if (!c.signer.scheme.validate(b.publicKey)) throw new InvalidConfigError(`bootstrappers[${i}].publicKey`, 'is not a valid key of the signer scheme')
    address(`bootstrappers[${i}].address`, b.address)
  })
  int('maxMessageSize', c.maxMessageSize, MIN_MESSAGE_SIZE, 0xffff_ffff - 64 - 16)
  int('mailboxSize', c.mailboxSize, 1)
  int('maxWriteStallMs', c.maxWriteStallMs, 0)
  int('maxPeerQueueBytes', c.maxPeerQueueBytes, 1)
  int('synchronyBoundMs', c.synchronyBoundMs, 0)
  int('maxHandshakeAgeMs', c.maxHandshakeAgeMs, 0)
  int('handshakeTimeoutMs', c.handshakeTimeoutMs, 1)
  int('maxConcurrentHandshakes', c.maxConcurrentHandshakes, 1)
  int('maxConcurrentHandshakesPerIp', c.maxConcurrentHandshakesPerIp, 1)
  int('dialFrequencyMs', c.dialFrequencyMs, 1)
  int('trackedPeerSets', c.trackedPeerSets, 0)
  int('gossipBitVecFrequencyMs', c.gossipBitVecFrequencyMs, 1)
  int('peerGossipMaxCount', c.peerGossipMaxCount, 1)
  for (const f of ['allowedConnectionRatePerPeer', 'allowedIncomingConnectionRate', 'allowedHandshakeRatePerIp', 'allowedHandshakeRatePerSubnet', 'dialRate', 'allowedBitVecRate', 'allowedPeersRate'] as const) {
    if (!(c[f] instanceof Quota)) throw new InvalidConfigError(f, 'must be a Quota (Quota.perSecond(n), Quota.perMinute(n), ...)')
  }
  if (typeof c.allowPrivateIps !== 'boolean') throw new InvalidConfigError('allowPrivateIps', 'must be a boolean')
  if (c.mode !== 'discovery' && c.mode !== 'lookup') throw new InvalidConfigError('mode', `must be 'discovery' or 'lookup', got ${JSON.stringify(c.mode)}`)
  if (c.mode === 'lookup' && c.bootstrappers.length > 0) throw new InvalidConfigError('bootstrappers', 'must be empty in lookup mode (addresses come with Oracle.register)')
  if (typeof c.allowInboundFromAnyIp !== 'boolean') throw new InvalidConfigError('allowInboundFromAnyIp', 'must be a boolean')
  if (c.bootstrappersOutsideSets !== 'keep' && c.bootstrappersOutsideSets !== 'discovery-only') {
    throw new InvalidConfigError('bootstrappersOutsideSets', `must be 'keep' or 'discovery-only', got ${JSON.stringify(c.bootstrappersOutsideSets)}`)
  }
  int('blockDurationMs', c.blockDurationMs, 1)
  if (typeof c.preDialNextSet !== 'boolean') throw new InvalidConfigError('preDialNextSet', 'must be a boolean')
  return c
}

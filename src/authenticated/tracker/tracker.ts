/**
 * The tracker: the address book (`Directory`) plus connection reservations.
 *
 * ## Design
 * At most one connection per peer key, inbound or outbound (PROTOCOL.md 5.7): a reservation is taken
 * before dialing, or after an inbound handshake verifies and before answering it, and released when
 * the connection ends. A reservation also costs a cell of the per-peer connection GCRA, which bounds
 * reconnect storms. Inbound reservations require the key to be in a tracked set.
 *
 * Every method is synchronous, so no caller ever observes half-updated state (the property the
 * reference gets from its actor): JavaScript runs each call to completion.
 *
 * ## Not provided
 * Bans: a killed peer may reconnect when its connection quota allows, as in the reference.
 */
import type { Peer } from '../../codec/index.js'
import type { Context } from '../../runtime/context.js'
import { RateLimiter } from '../../utils/ratelimit.js'
import type { Config } from '../config.js'
import { Directory, type BitVecOutcome, type PeersOutcome } from './directory.js'

const CONNECTION_CLASS = 0
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex')

export class Tracker {
  readonly directory: Directory
  readonly #reserved = new Set<string>()
  readonly #limits = new RateLimiter()
  readonly #ids = new Map<string, number>()

  constructor(
    private readonly ctx: Context,
    cfg: Config,
    myRecord: Peer,
    ipNamespace: Uint8Array,
  ) {
    this.directory = new Directory({
      me: cfg.signer.publicKey,
      myRecord,
      verifier: cfg.signer.scheme,
      ipNamespace,
      trackedPeerSets: cfg.trackedPeerSets,
      peerGossipMaxCount: cfg.peerGossipMaxCount,
      allowPrivateIps: cfg.allowPrivateIps,
      synchronyBoundMs: cfg.synchronyBoundMs,
      bootstrappers: cfg.bootstrappers,
    })
    this.#limits.define(CONNECTION_CLASS, cfg.allowedConnectionRatePerPeer)
  }

  /** A small stable integer per key (rate-limit tables are keyed by it). */
  idOf(pk: Uint8Array): number {
    const k = hexOf(pk)
    let id = this.#ids.get(k)
    if (id === undefined) this.#ids.set(k, (id = this.#ids.size + 1))
    return id
  }

  /** Reserve the single connection slot of `pk`; false if taken, rate-limited or (inbound) not allowed. */
  reserve(pk: Uint8Array, inbound: boolean): boolean {
    const k = hexOf(pk)
    if (this.#reserved.has(k)) return false
    if (inbound && !this.directory.isAllowed(pk)) return false
    if (this.#limits.check(this.idOf(pk), CONNECTION_CLASS, this.ctx.now()) !== 0) return false
    this.#reserved.add(k)
    return true
  }

  release(pk: Uint8Array): void {
    this.#reserved.delete(hexOf(pk))
  }

  isReserved(pk: Uint8Array): boolean {
    return this.#reserved.has(hexOf(pk))
  }

  get reservations(): number {
    return this.#reserved.size
  }

  /** Peers with an address that are not connected or being dialed. */
  dialable(): { publicKey: Uint8Array; address: string }[] {
    return this.directory.dialable().filter((d) => !this.#reserved.has(hexOf(d.publicKey)))
  }

  handleBitVec(index: bigint, bits: Uint8Array): BitVecOutcome {
    return this.directory.handleBitVec(index, bits, (xs) => shuffle(this.ctx, xs))
  }

  handlePeers(peers: Peer[]): PeersOutcome {
    return this.directory.handlePeers(peers, this.ctx.now())
  }
}

/** Fisher-Yates with the context's randomness (seeded in deterministic runs). */
export function shuffle<T>(ctx: Context, xs: T[]): T[] {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = ctx.randomInt(i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

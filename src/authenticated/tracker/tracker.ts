/**
 * The tracker: the address book (`Directory`) plus connection reservations.
 *
 * ## Design
 * At most one connection per peer key, inbound or outbound (PROTOCOL.md 5.7): a reservation is taken
 * before dialing, or after an inbound handshake verifies and before answering it, and released when
 * the connection ends. A reservation also costs a cell of the per-peer connection GCRA, which bounds
 * reconnect storms. Inbound reservations require the key to be in a tracked set, not blocked, and, in
 * lookup mode (unless `allowInboundFromAnyIp`), the connection to come from the IP of the key's
 * registered address.
 *
 * Blocks (`Oracle.block`): a blocked key is neither dialed nor admitted until its block expires on the
 * context clock or is lifted; blocking cancels a dial in progress (the network closes a live
 * connection). Expired blocks are forgotten lazily, whenever blocks are read.
 *
 * Simultaneous dials: when a verified inbound handshake arrives from a key we are dialing, the
 * connection dialed by the smaller key wins (keys compared bytewise), so both ends keep the same one.
 * If the inbound wins, our dial is cancelled and its reservation passes to the inbound connection. If
 * our dial wins, the inbound waits (at most until `waitUntil`) for the dial's outcome: refused if the
 * dial connected, accepted if it failed or did not finish in time. So a dial that can never complete
 * (the other side refuses it at accept, or it hangs) never keeps a valid inbound connection out, and
 * a restarted peer comes back by whichever direction completes first. The reference has no tie-break:
 * both ends refuse and retry later.
 *
 * Every method is synchronous except `claimInbound`, whose only wait is on a dial's outcome; no caller
 * ever observes half-updated state.
 *
 * ## Not provided
 * Automatic bans: a peer killed for a protocol violation may reconnect when its connection quota
 * allows, as in the reference; blocking is the application's decision (`Oracle.block`).
 */
import type { Peer } from '../../codec/index.js'
import { PeerRefusedError } from '../../errors.js'
import type { Context } from '../../runtime/context.js'
import { KeyedRate, sourceOf } from '../admission.js'
import type { Config } from '../config.js'
import { Directory, type BitVecOutcome, type PeersOutcome } from './directory.js'
import { hexOf } from '../../utils/hex.js'

/** Why a verified inbound key is refused (the `handshakes_refused` reason). */
export type KeyRefusal = PeerRefusedError['reason']

/** The single connection slot of one key, held by a dial in progress or by a connection. */
export class Reservation {
  #connected = false
  #cancel: (() => void) | undefined
  /** How it settled (undefined: not yet), and the promise and resolver of a waiter, made on demand. */
  #outcome: boolean | undefined
  #settled: Promise<boolean> | undefined
  #resolve: ((connected: boolean) => void) | undefined

  /** Resolves once the holder connected (true) or gave up (false). */
  get settled(): Promise<boolean> {
    if (!this.#settled) this.#settled = this.#outcome !== undefined ? Promise.resolve(this.#outcome) : new Promise<boolean>((r) => (this.#resolve = r))
    return this.#settled
  }

  #settle(connected: boolean): void {
    if (this.#outcome !== undefined) return
    this.#outcome = connected
    this.#resolve?.(connected)
    this.#resolve = undefined
  }

  /** @internal made by the `Tracker` */
  constructor(
    /** The key, hex. */
    readonly key: string,
    /** Whether an inbound connection holds it (else a dial). */
    readonly inbound: boolean,
  ) {}

  /** Whether the holder has an established connection. */
  get connected(): boolean {
    return this.#connected
  }

  /** What cancels the dial holding this reservation (close its socket). */
  onCancel(cancel: () => void): void {
    this.#cancel = cancel
  }

  /** @internal */
  cancel(): void {
    this.#cancel?.()
    this.#settle(false)
  }

  /** @internal */
  markConnected(): void {
    this.#connected = true
    this.#settle(true)
  }

  /** @internal */
  markReleased(): void {
    this.#settle(false)
  }
}

/** A blocked key and when its block ends. */
export interface Block {
  /** The blocked key. */
  publicKey: Uint8Array
  /** When the block ends, ms on the network's context clock (`ctx.now()`); `Infinity` until lifted. */
  until: number
}

export class Tracker {
  readonly directory: Directory
  readonly #reserved = new Map<string, Reservation>()
  readonly #rate: KeyedRate
  readonly #me: Uint8Array
  readonly #blocks = new Map<string, Block>()
  readonly #pinIp: boolean

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
      mode: cfg.mode,
      bootstrapperPolicy: cfg.bootstrappersOutsideSets,
    })
    this.#rate = new KeyedRate(cfg.allowedConnectionRatePerPeer)
    this.#me = cfg.signer.publicKey
    this.#pinIp = cfg.mode === 'lookup' && !cfg.allowInboundFromAnyIp
  }

  /**
   * Block `pk` until `until` (context clock, ms; a later block of the same key never shortens an
   * earlier one) and cancel a dial in progress to it. Resolves nothing: the network closes a live
   * connection.
   */
  block(pk: Uint8Array, until: number): void {
    const k = hexOf(pk)
    const old = this.#blocks.get(k)
    this.#blocks.set(k, { publicKey: Uint8Array.from(pk), until: Math.max(until, old?.until ?? until) })
    this.cancelDial(pk)
  }

  /** Cancel a dial in progress to `pk` (not an established connection); false if there was none. */
  cancelDial(pk: Uint8Array): boolean {
    const held = this.#reserved.get(hexOf(pk))
    if (!held || held.inbound || held.connected) return false
    this.#take(held)
    return true
  }

  /** Lift `pk`'s block; false if it was not blocked (or its block had expired). */
  unblock(pk: Uint8Array): boolean {
    const blocked = this.isBlocked(pk)
    this.#blocks.delete(hexOf(pk))
    return blocked
  }

  /** Whether `pk` is blocked now. */
  isBlocked(pk: Uint8Array): boolean {
    return this.#blockedNow(hexOf(pk))
  }

  #blockedNow(k: string): boolean {
    const b = this.#blocks.get(k)
    if (!b) return false
    if (b.until > this.ctx.now()) return true
    this.#blocks.delete(k)
    return false
  }

  /** Blocks in force, by key order (expired ones are forgotten here). */
  blocks(): Block[] {
    const now = this.ctx.now()
    for (const [k, b] of this.#blocks) if (b.until <= now) this.#blocks.delete(k)
    return [...this.#blocks.values()].map((b) => ({ publicKey: Uint8Array.from(b.publicKey), until: b.until })).sort((a, b) => compareKeys(a.publicKey, b.publicKey))
  }

  /** Keys blocked now. */
  get blockedCount(): number {
    const now = this.ctx.now()
    let n = 0
    for (const b of this.#blocks.values()) if (b.until > now) n++
    return n
  }

  /** Lookup mode with IP pinning: whether `ip` is not the IP of `pk`'s registered address. */
  #wrongIp(pk: Uint8Array, ip: string | undefined): boolean {
    if (!this.#pinIp || ip === undefined) return false
    const a = this.directory.addressOf(pk)
    return a === undefined || sourceOf(a).ip !== ip
  }

  /** Reserve `pk` for a dial; undefined if taken or over the per-peer connection rate. */
  reserveDial(pk: Uint8Array): Reservation | undefined {
    const k = hexOf(pk)
    if (this.#reserved.has(k) || this.#blockedNow(k)) return undefined
    if (!this.#rate.check(k, this.ctx.now())) return undefined
    const r = new Reservation(k, false)
    this.#reserved.set(k, r)
    return r
  }

  /**
   * Screen a claimed inbound key, connecting from `ip`, before its signature is verified: throws
   * `PeerRefusedError` for a blocked key, a key outside every tracked set, one connecting from
   * another IP than its registered address's (lookup mode), one already connected, or one over its
   * connection rate (peeked: the cell is spent only once the handshake verified). A key we are
   * dialing passes (see `claimInbound`).
   */
  screenInbound(pk: Uint8Array, ip?: string): void {
    const k = hexOf(pk)
    if (this.#blockedNow(k)) throw new PeerRefusedError('blocked')
    if (!this.directory.isAllowed(pk)) throw new PeerRefusedError('not_in_peer_set')
    if (this.#wrongIp(pk, ip)) throw new PeerRefusedError('wrong_ip')
    const r = this.#reserved.get(k)
    if (r) {
      if (r.inbound || r.connected) throw new PeerRefusedError('already_connected')
      return
    }
    if (!this.#rate.peek(k, this.ctx.now())) throw new PeerRefusedError('key_rate')
  }

  /**
   * Reserve `pk` for a verified inbound connection, resolving the tie with a dial in progress to the
   * same key (see the module doc); waits for our dial at most until `waitUntil` (ms, context clock).
   * Resolves with the reservation or the reason it was refused.
   */
  async claimInbound(pk: Uint8Array, waitUntil: number, ip?: string): Promise<Reservation | KeyRefusal> {
    const k = hexOf(pk)
    let paid = false
    for (;;) {
      if (this.#blockedNow(k)) return 'blocked'
      if (!this.directory.isAllowed(pk)) return 'not_in_peer_set'
      if (this.#wrongIp(pk, ip)) return 'wrong_ip'
      const held = this.#reserved.get(k)
      if (!held) {
        if (!paid && !this.#rate.check(k, this.ctx.now())) return 'key_rate'
        const r = new Reservation(k, true)
        this.#reserved.set(k, r)
        return r
      }
      if (held.inbound || held.connected) return 'already_connected'
      // Our dial to the same key is in progress: the connection dialed by the smaller key wins.
      if (compareKeys(pk, this.#me) < 0) {
        this.#take(held)
        paid = true
        continue
      }
      const wait = waitUntil - this.ctx.now()
      const outcome = wait > 0 ? await raceTimeout(this.ctx, held.settled, wait) : undefined
      if (outcome === true) return 'already_connected'
      if (outcome === undefined && this.#reserved.get(k) === held) this.#take(held)
      // The dial failed, or was cancelled for taking too long: its cell pays for this connection.
      paid = true
    }
  }

  /** Cancel the dial holding `r` and free its slot (for the caller to take at once). */
  #take(r: Reservation): void {
    this.#reserved.delete(r.key)
    r.cancel()
  }

  /** Whether `r` still holds its key's slot (a cancelled dial no longer does). */
  holds(r: Reservation): boolean {
    return this.#reserved.get(r.key) === r
  }

  /** Free `r`'s slot if it still holds it. */
  release(r: Reservation): void {
    if (this.#reserved.get(r.key) === r) this.#reserved.delete(r.key)
    r.markReleased()
  }

  /** Whether `pk`'s slot is held (by a dial or a connection). */
  isReserved(pk: Uint8Array): boolean {
    return this.#reserved.has(hexOf(pk))
  }

  get reservations(): number {
    return this.#reserved.size
  }

  /** Peers with an address that are not connected, being dialed or blocked. */
  dialable(): { publicKey: Uint8Array; address: string }[] {
    return this.directory.dialable((k) => this.#reserved.has(k) || this.#blockedNow(k))
  }

  handleBitVec(index: bigint, bits: Uint8Array): BitVecOutcome {
    return this.directory.handleBitVec(index, bits, (xs) => shuffle(this.ctx, xs))
  }

  handlePeers(peers: Peer[]): PeersOutcome {
    return this.directory.handlePeers(peers, this.ctx.now())
  }
}

/** Bytewise order of two keys (shorter first on a common prefix). */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** `p`'s value, or undefined if `ms` pass first. */
async function raceTimeout<T>(ctx: Context, p: Promise<T>, ms: number): Promise<T | undefined> {
  let cancel: () => void = () => undefined
  const timeout = new Promise<undefined>((resolve) => {
    cancel = ctx.after(ms, () => resolve(undefined))
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    cancel()
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

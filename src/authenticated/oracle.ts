/**
 * `Oracle`: the application's handle on who a network may talk to: peer sets (and, in lookup mode,
 * their addresses) and blocks.
 *
 * ## Design
 * Every method is synchronous and acts at once on the network's tracker; what concerns live
 * connections (close a blocked or moved key's connection, re-sort bootstrapper connections after a
 * set change) is asked of the network through its hooks, also at once.
 * - `register(index, peers)`: discovery mode takes keys; lookup mode (`Config.mode`) takes
 *   `[key, address]` pairs. A key whose address changes (by a newer registration or
 *   `updateAddress`) loses its connection and is dialed at the new address.
 * - `announce(index, peers)`: the set that will be registered next; its readiness is measured and,
 *   with `Config.preDialNextSet`, its keys are connected before it becomes current.
 * - `block(key, { forMs })`: the key's connection is closed, it is not dialed and its inbound
 *   handshakes are refused before their signature is checked (`handshakes_refused{reason="blocked"}`)
 *   until the block expires on the context clock or `unblock` lifts it. Blocks are local: nothing is
 *   sent to anyone.
 *
 * ## Not provided
 * Persistence: blocks and addresses live as long as the network object. Blocking by IP: a block
 * names a key (admission limits sources, see admission.ts).
 *
 * ## Example
 * ```ts
 * oracle.register(1n, [[validatorKey, '203.0.113.7:3000']])   // lookup mode
 * oracle.block(badKey, { forMs: 10 * 60_000 })
 * ```
 */
import { socketAddress } from '../codec/address.js'
import { InvalidArgumentError } from '../errors.js'
import { parseAddress, type Address, type Context } from '../runtime/context.js'
import type { Config } from './config.js'
import type { Metrics } from './metrics.js'
import type { Tracker } from './tracker/tracker.js'
import { hexOf } from '../utils/hex.js'

/** A key and the address it listens on: one entry of a lookup-mode peer set. */
export type LookupPeer = [publicKey: Uint8Array, address: Address]

/** A block in force, as `Oracle.blocked()` lists it. */
export interface BlockedPeer {
  /** The blocked key. */
  publicKey: Uint8Array
  /** When the block ends, ms on the network's context clock (`ctx.now()`); `Infinity` until lifted. */
  until: number
  /** How long the block still lasts, ms (`Infinity` until lifted). */
  remainingMs: number
}

/** Options of `Oracle.block`. */
export interface BlockOptions {
  /** How long the block lasts, ms (a positive integer, or `Infinity` until `unblock`); default `Config.blockDurationMs`. */
  forMs?: number
}

/**
 * What the oracle asks of its network.
 * @internal
 */
export interface OracleHooks {
  /** Close the connection to `pk`, if there is one, counted in `peers_disconnected{reason}`. */
  disconnect(pk: Uint8Array, reason: string): void
  /** The tracked sets changed: re-sort connections to bootstrappers that left (or joined) every set. */
  setsChanged(): void
}

/** Registers peer sets (with addresses, in lookup mode) and blocks keys; get one from `Network.create`. */
export class Oracle {
  /** @internal users get an `Oracle` from `Network.create` */
  constructor(
    private readonly ctx: Context,
    private readonly cfg: Config,
    private readonly tracker: Tracker,
    private readonly metrics: Metrics,
    private readonly hooks: OracleHooks,
  ) {}

  /**
   * Track peer set `index` (ignored, false, unless above every tracked index); keys need not be
   * sorted. Discovery mode takes keys; lookup mode takes `[key, address]` pairs (an IP literal and a
   * port each), and a key already tracked at another address moves there: its connection is closed
   * (`peers_disconnected{reason="address_changed"}`) and it is dialed at the new address. Throws
   * `InvalidArgumentError` for entries of the other mode, a bad address, or one key given two addresses.
   */
  register(index: bigint | number, peers: Uint8Array[] | LookupPeer[]): boolean {
    const lookup = this.cfg.mode === 'lookup'
    let keys: Uint8Array[]
    let addresses: string[] | undefined
    if (lookup) {
      const pairs = peers.map((p, i) => {
        if (!Array.isArray(p) || !(p[0] instanceof Uint8Array)) throw new InvalidArgumentError(`register: peers[${i}] must be a [key, address] pair in lookup mode`)
        checkAddress(`peers[${i}]`, p[1])
        return p
      })
      const seen = new Map<string, string>()
      for (const [pk, a] of pairs) {
        const k = hexOf(pk)
        if (seen.has(k) && seen.get(k) !== a) throw new InvalidArgumentError(`register: key ${k} is given two addresses (${seen.get(k)}, ${a})`)
        seen.set(k, a)
      }
      keys = pairs.map((p) => p[0])
      addresses = pairs.map((p) => p[1])
    } else {
      peers.forEach((p, i) => {
        if (!(p instanceof Uint8Array)) throw new InvalidArgumentError(`register: peers[${i}] must be a key; [key, address] pairs need Config.mode 'lookup'`)
      })
      keys = peers as Uint8Array[]
    }
    const dir = this.tracker.directory
    const moved = lookup ? keys.filter((pk, i) => { const a = dir.addressOf(pk); return a !== undefined && a !== addresses![i] }) : []
    const ok = dir.register(BigInt(index), keys, addresses)
    this.metrics.trackedPeers.set(dir.size)
    if (!ok) return false
    for (const pk of moved) this.#moved(pk)
    this.hooks.setsChanged()
    return true
  }

  /**
   * Announce the peer set that will be registered next (the next epoch's validators, known before it
   * starts); false (nothing changes) unless `index` is above every tracked one. Takes keys, or
   * `[key, address]` pairs in lookup mode, as `register` does. `Network.readiness()` and
   * `peer_set_connected_ratio{set="next"}` then say how much of it is connected. With
   * `Config.preDialNextSet` its keys are also dialed and accepted before `register`, so the switch
   * finds them connected: in lookup mode at the addresses given here (for keys not tracked yet), in
   * discovery mode at addresses already known (a key new to us is reached when it dials us, having
   * announced the set too). Registering a set of this index or above, or another announce, ends it.
   * Throws `InvalidArgumentError` as `register` does.
   */
  announce(index: bigint | number, peers: Uint8Array[] | LookupPeer[]): boolean {
    const lookup = this.cfg.mode === 'lookup'
    peers.forEach((p, i) => {
      if (lookup) {
        if (!Array.isArray(p) || !(p[0] instanceof Uint8Array)) throw new InvalidArgumentError(`announce: peers[${i}] must be a [key, address] pair in lookup mode`)
        checkAddress(`peers[${i}]`, p[1])
      } else if (!(p instanceof Uint8Array)) throw new InvalidArgumentError(`announce: peers[${i}] must be a key; [key, address] pairs need Config.mode 'lookup'`)
    })
    const keys = lookup ? (peers as LookupPeer[]).map((p) => p[0]) : (peers as Uint8Array[])
    const addresses = lookup ? (peers as LookupPeer[]).map((p) => p[1]) : undefined
    const ok = this.tracker.directory.announce(BigInt(index), keys, addresses, this.cfg.preDialNextSet)
    this.metrics.trackedPeers.set(this.tracker.directory.size)
    if (ok) this.hooks.setsChanged()
    return ok
  }

  /**
   * Lookup mode: move `key` to `address` without a new peer set. If the address changed, the key's
   * connection (and any dial in progress) is dropped (`peers_disconnected{reason="address_changed"}`)
   * and the next dial goes to the new address; inbound, only the new address's IP is accepted. False
   * if the key is in no tracked set (nothing is stored). Throws `InvalidArgumentError` in discovery
   * mode or for a bad address.
   */
  updateAddress(key: Uint8Array, address: Address): boolean {
    if (this.cfg.mode !== 'lookup') throw new InvalidArgumentError("updateAddress needs Config.mode 'lookup' (in discovery mode addresses come from signed records)")
    checkAddress('address', address)
    const r = this.tracker.directory.setAddress(key, address)
    if (r === 'changed') this.#moved(key)
    return r !== 'unknown'
  }

  /** The address registered for `key` (lookup mode), or undefined if it is in no tracked set. */
  addressOf(key: Uint8Array): Address | undefined {
    return this.tracker.directory.addressOf(key)
  }

  #moved(pk: Uint8Array): void {
    this.tracker.cancelDial(pk)
    this.hooks.disconnect(pk, 'address_changed')
  }

  /**
   * Block `key` for `forMs` (default `Config.blockDurationMs`; `Infinity` until `unblock`): its
   * connection is closed (`peers_disconnected{reason="blocked"}`), a dial in progress is cancelled,
   * it is not dialed, and its inbound handshakes are refused before the signature check
   * (`handshakes_refused{reason="blocked"}`) until the block ends. Blocking a blocked key keeps the
   * later of the two ends. Returns the block. Throws `InvalidArgumentError` for a bad `forMs` or our
   * own key.
   */
  block(key: Uint8Array, options: BlockOptions = {}): BlockedPeer {
    const forMs = options.forMs ?? this.cfg.blockDurationMs
    if (!(forMs === Infinity || (Number.isInteger(forMs) && forMs > 0))) throw new InvalidArgumentError(`block: forMs must be a positive integer or Infinity, got ${forMs}`)
    if (hexOf(key) === hexOf(this.cfg.signer.publicKey)) throw new InvalidArgumentError('block: cannot block our own key')
    const now = this.ctx.now()
    const wasBlocked = this.tracker.isBlocked(key)
    this.tracker.block(key, now + forMs)
    this.hooks.disconnect(key, 'blocked')
    // A new block ends at now + forMs; only a block already in force may end later (listing every
    // block per call made blocking n keys O(n^2 log n): 999 keys took 0.75 s).
    if (!wasBlocked) return { publicKey: Uint8Array.from(key), until: now + forMs, remainingMs: forMs }
    return this.blocked().find((b) => hexOf(b.publicKey) === hexOf(key))!
  }

  /** Lift `key`'s block at once; false if it was not blocked (or the block had already expired). */
  unblock(key: Uint8Array): boolean {
    return this.tracker.unblock(key)
  }

  /** The blocks in force, in key order, with when each ends; expired ones are gone. */
  blocked(): BlockedPeer[] {
    const now = this.ctx.now()
    return this.tracker.blocks().map((b) => ({ ...b, remainingMs: b.until - now }))
  }
}

function checkAddress(what: string, a: unknown): void {
  try {
    if (typeof a !== 'string') throw new Error('not a string')
    const { host, port } = parseAddress(a)
    socketAddress(host, port)
  } catch {
    throw new InvalidArgumentError(`${what}: address must be an IP literal and port, got ${JSON.stringify(a)}`)
  }
}

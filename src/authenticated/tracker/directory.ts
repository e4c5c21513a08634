/**
 * The tracker's state: tracked peer sets, knowledge bit vectors, signed address records, and the
 * rules of PROTOCOL.md 5 for bit vectors and Peers messages. Pure and synchronous: the tracker actor
 * owns one `Directory` and feeds it messages one at a time.
 *
 * ## Design
 * A peer set is `(index, keys sorted by raw bytes)`; its bit i is set when we are `sorted[i]` or hold a
 * network-learned (gossiped, signed) record for it. Keys are reference-counted across the tracked sets;
 * bootstrappers are never dropped. Registering is monotonic (an index not above the largest is ignored)
 * and keeps the newest `trackedPeerSets` sets. A received bit vector is answered with the signed records
 * the asker lacks (ours included), at most `peerGossipMaxCount` of them, chosen at random when there are
 * more. A received Peers message is checked entry by entry, in the reference's order; the first bad
 * entry kills the sender (entries before it are already applied). A record replaces the stored one only
 * if it is strictly newer.
 *
 * In lookup mode (`Config.mode`) every key of a set comes with the address the application gave; the
 * newest registration (or `setAddress`) wins. Every bit of every set is set (we know every address),
 * so the bit vectors we send ask for nothing; gossiped records are checked as above but not stored.
 *
 * A bootstrapper outside every tracked set is kept and dialed for ever under the `keep` policy (the
 * reference). Under `discovery-only` it is dialable only while discovery is needed: while some key of
 * a tracked set (other than us) has no known address (`needsBootstrap`).
 *
 * Bit vectors go out as floor(n/8) + 1 bytes (what every 0.0.25 node accepts; the reference itself
 * sends ceil(n/8) and then rejects that length when n % 8 == 0) and both lengths are accepted.
 *
 * ## Not provided
 * Liveness of records: as in the reference, a stale record is re-gossiped until a newer one arrives.
 * A key whose owner never comes online keeps discovery needed, so a discovery-only bootstrapper stays
 * connected (its Data still dropped) until that key is known or leaves the tracked sets.
 *
 * ## Example
 * ```ts
 * dir.register(0n, keys); const reply = dir.handleBitVec(0n, bits) // { kind: 'reply', peers }
 * ```
 */
import { decodeSocket, isGlobal, peerRecordPayload, type Peer } from '../../codec/index.js'
import type { Verifier } from '../../crypto/scheme.js'
import type { BootstrapperPolicy, NetworkMode } from '../config.js'
import { BitVec } from '../../utils/bitvec.js'
import { hexOf } from '../../utils/hex.js'

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** A peer set announced before it is registered (`Directory.announce`). */
export interface NextSet {
  index: bigint
  sorted: Uint8Array[]
  /** Its keys, hex. */
  keys: Set<string>
  /** Whether its keys count as tracked (dialed, accepted) before it is registered. */
  allowed: boolean
}

export interface PeerSet {
  index: bigint
  sorted: Uint8Array[]
  bits: BitVec
  /** Position in `sorted` of each key (hex): membership and bit lookups without a scan. */
  at: Map<string, number>
  /** `sorted` as hex, by position. */
  hexes: string[]
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(a, b) === 0

/** Whether `p` is byte for byte the stored (hence already verified) record `r`. */
function sameRecord(r: Peer | undefined, p: Peer): boolean {
  return r?.signature !== undefined && p.signature !== undefined && r.timestamp === p.timestamp && sameBytes(r.socket, p.socket) && sameBytes(r.signature.signature, p.signature.signature) && sameBytes(r.signature.publicKey, p.signature.publicKey)
}

/**
 * A stored copy of a verified record: its socket and signature copied into one small buffer (not views
 * into the frame it came in), its public key the entry's own (equal bytes), so a record costs one
 * allocation. A node holds one per peer: this is per-connection memory.
 */
function ownRecord(publicKey: Uint8Array, p: Peer): Peer {
  const sig = p.signature!.signature
  const b = new Uint8Array(p.socket.length + sig.length)
  b.set(p.socket)
  b.set(sig, p.socket.length)
  return { socket: b.subarray(0, p.socket.length), timestamp: p.timestamp, signature: { publicKey, signature: b.subarray(p.socket.length) } }
}

/** A set's key lookups: position by hex, hex by position. */
function indexed(sorted: Uint8Array[]): Pick<PeerSet, 'at' | 'hexes'> {
  const hexes = sorted.map(hexOf)
  return { at: new Map(hexes.map((k, i) => [k, i])), hexes }
}

interface Entry {
  publicKey: Uint8Array
  /** Number of tracked sets holding the key (Infinity for bootstrappers). */
  count: number
  /** Network-learned signed record, verbatim. */
  record?: Peer
  /** Configured address (bootstrappers). */
  configured?: string
  /** Address given by the application (lookup mode). */
  address?: string
}

export type KillReason =
  | 'TooManyPeers'
  | 'InvalidIPLength'
  | 'PrivateIPsNotAllowed'
  | 'PeerUnsigned'
  | 'InvalidPublicKey'
  | 'ReceivedSelf'
  | 'InvalidSignature'
  | 'BitVecLengthMismatch'
  | 'BitVecExtraBit'

export type BitVecOutcome = { kind: 'ignore' } | { kind: 'kill'; reason: KillReason } | { kind: 'reply'; peers: Peer[] }
export type PeersOutcome = { kind: 'ok'; updated: Uint8Array[] } | { kind: 'kill'; reason: KillReason; updated: Uint8Array[] }

export interface DirectoryOptions {
  me: Uint8Array
  /** Our own signed record (socket = dialable address). */
  myRecord: Peer
  verifier: Verifier
  /** `ns || "_TRACKER_IP"`. */
  ipNamespace: Uint8Array
  trackedPeerSets: number
  peerGossipMaxCount: number
  allowPrivateIps: boolean
  synchronyBoundMs: number
  bootstrappers: { publicKey: Uint8Array; address: string }[]
  /** Where addresses come from (`Config.mode`). */
  mode: NetworkMode
  /** What a bootstrapper outside every tracked set is used for (`Config.bootstrappersOutsideSets`). */
  bootstrapperPolicy: BootstrapperPolicy
}

export class Directory {
  readonly #entries = new Map<string, Entry>()
  readonly #sets: PeerSet[] = [] // ascending index
  /** The announced next set (`announce`), until a set of its index or above is registered. */
  #next: NextSet | undefined
  readonly #me: string

  constructor(private readonly o: DirectoryOptions) {
    this.#me = hexOf(o.me)
    for (const b of o.bootstrappers) {
      const k = hexOf(b.publicKey)
      if (k === this.#me) continue
      this.#entries.set(k, { publicKey: b.publicKey, count: Infinity, configured: b.address })
    }
  }

  get sets(): readonly PeerSet[] {
    return this.#sets
  }

  /** Keys in the address book (set members and bootstrappers, ourselves excluded). */
  get size(): number {
    return this.#entries.size - (this.#entries.has(this.#me) ? 1 : 0)
  }

  /**
   * Track a new peer set; ignored (false) unless its index is above every tracked one. In lookup mode
   * `addresses[i]` is the address of `peers[i]` (required), and replaces the key's previous one.
   */
  register(index: bigint, peers: Uint8Array[], addresses?: string[]): boolean {
    const last = this.#sets[this.#sets.length - 1]
    if (last && index <= last.index) return false
    const lookup = this.o.mode === 'lookup'
    const at = new Map<string, string>()
    if (lookup) peers.forEach((pk, i) => at.set(hexOf(pk), addresses![i]!))
    const sorted = [...peers].sort(compareBytes)
    const set: PeerSet = { index, sorted, bits: new BitVec(sorted.length), ...indexed(sorted) }
    set.at.forEach((i, k) => {
      const pk = sorted[i]!
      let e = this.#entries.get(k)
      if (e) {
        e.count += 1
        if (e.record) set.bits.set(i)
      } else {
        this.#entries.set(k, (e = { publicKey: pk, count: 1 }))
      }
      if (lookup) {
        e.address = at.get(k)
        set.bits.set(i)
      }
      if (k === this.#me) set.bits.set(i)
    })
    this.#sets.push(set)
    while (this.#sets.length > Math.max(1, this.o.trackedPeerSets)) this.#evict(this.#sets.shift()!.at.keys())
    if (this.#next && index >= this.#next.index) this.#dropNext()
    return true
  }

  /** The announced next peer set, if any. */
  get next(): NextSet | undefined {
    return this.#next
  }

  /**
   * Announce the set that will be registered next; false (nothing changes) unless `index` is above
   * every tracked one. With `allow` (`Config.preDialNextSet`) its keys count as tracked until a set of
   * that index or above is registered (or another set is announced): they are dialed at a known
   * address (in lookup mode `addresses[i]` for a key not tracked yet), may connect to us, and their
   * gossiped records are stored. Not gossiped as a bit vector (peers do not know the index yet).
   */
  announce(index: bigint, peers: Uint8Array[], addresses: string[] | undefined, allow: boolean): boolean {
    const last = this.#sets[this.#sets.length - 1]
    if (last && index <= last.index) return false
    this.#dropNext()
    const sorted = [...peers].sort(compareBytes)
    const at = new Map(peers.map((pk, i) => [hexOf(pk), addresses?.[i]] as const))
    this.#next = { index, sorted, keys: new Set(sorted.map(hexOf)), allowed: allow }
    if (!allow) return true
    for (const pk of sorted) {
      const k = hexOf(pk)
      let e = this.#entries.get(k)
      if (e) e.count += 1
      else this.#entries.set(k, (e = { publicKey: pk, count: 1 }))
      if (this.o.mode === 'lookup' && e.address === undefined) e.address = at.get(k)
    }
    return true
  }

  #dropNext(): void {
    const next = this.#next
    this.#next = undefined
    if (next?.allowed) this.#evict(next.keys)
  }

  /** Drop one count of each key (hex) of a set leaving tracking. */
  #evict(keys: Iterable<string>): void {
    for (const k of keys) {
      const e = this.#entries.get(k)
      if (!e) continue
      e.count -= 1
      if (e.count <= 0) this.#entries.delete(k)
    }
  }

  /** Lookup mode: the address the application gave for `pk`, if it is tracked. */
  addressOf(pk: Uint8Array): string | undefined {
    return this.#entries.get(hexOf(pk))?.address
  }

  /**
   * Lookup mode: move a tracked key to `address`; `unknown` if the key is in no tracked set (nothing
   * changes), `same` if it already had that address, else `changed`.
   */
  setAddress(pk: Uint8Array, address: string): 'unknown' | 'same' | 'changed' {
    const k = hexOf(pk)
    const e = this.#entries.get(k)
    if (!e || k === this.#me || !this.#inSomeSet(k)) return 'unknown'
    if (e.address === address) return 'same'
    e.address = address
    return 'changed'
  }

  /** A configured bootstrapper whose key is in none of the tracked sets. */
  isBootstrapperOutsideSets(pk: Uint8Array): boolean {
    const k = hexOf(pk)
    return this.#entries.get(k)?.configured !== undefined && !this.#inSomeSet(k)
  }

  /**
   * Whether discovery still needs bootstrappers: some key of a tracked set (other than us) has no
   * known address (no gossiped record, no configured or application-given address). Never in lookup mode.
   */
  needsBootstrap(): boolean {
    if (this.o.mode === 'lookup') return false
    for (const s of this.#sets) {
      for (const k of s.at.keys()) {
        if (k === this.#me) continue
        const e = this.#entries.get(k)
        if (e && !e.record && e.configured === undefined) return true
      }
    }
    return false
  }

  /** In some tracked set or a bootstrapper (what the gossip tick requires, else the peer is killed). */
  isTracked(pk: Uint8Array): boolean {
    return this.#entries.has(hexOf(pk))
  }

  /** May connect to us: not us, and in some tracked set (bootstrappers outside every set may not). */
  isAllowed(pk: Uint8Array): boolean {
    const k = hexOf(pk)
    return k !== this.#me && this.#inSomeSet(k)
  }

  #inSomeSet(k: string): boolean {
    return this.#sets.some((s) => s.at.has(k)) || (this.#next?.allowed === true && this.#next.keys.has(k))
  }

  /**
   * Keys with an address to dial (network-learned first, else configured; in lookup mode the
   * application's), excluding us. Under the `discovery-only` policy a bootstrapper outside every
   * tracked set is left out unless discovery still needs it; so is every key (hex) `skip` names, before
   * any address is decoded. Sorted by key bytes.
   */
  dialable(skip?: (key: string) => boolean): { publicKey: Uint8Array; address: string }[] {
    const out: { publicKey: Uint8Array; address: string; k: string }[] = []
    const skipOutside = this.o.bootstrapperPolicy === 'discovery-only' && !this.needsBootstrap()
    for (const [k, e] of this.#entries) {
      if (k === this.#me || skip?.(k)) continue
      if (e.address !== undefined) {
        out.push({ publicKey: e.publicKey, address: e.address, k })
      } else if (skipOutside && e.configured !== undefined && !this.#inSomeSet(k)) {
        continue
      } else if (e.record) {
        const a = decodeSocket(e.record.socket)
        out.push({ publicKey: e.publicKey, address: a.family === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`, k })
      } else if (e.configured) {
        out.push({ publicKey: e.publicKey, address: e.configured, k })
      }
    }
    // Hex of equal-length keys sorts as the bytes do.
    return out.sort((a, b) => (a.k.length !== b.k.length ? compareBytes(a.publicKey, b.publicKey) : a.k < b.k ? -1 : a.k > b.k ? 1 : 0)).map(({ publicKey, address }) => ({ publicKey, address }))
  }

  /** The gossip tick: one tracked set's bit vector, picked with `pick(n)` in [0, n); none without sets. */
  gossip(pick: (n: number) => number): { index: bigint; bits: Uint8Array } | undefined {
    const set = this.gossipSet(pick)
    return set && { index: set.index, bits: set.bits.toWire() }
  }

  /** The set `gossip` would pick (read-only): for a caller that encodes its bit vector once for many peers. */
  gossipSet(pick: (n: number) => number): PeerSet | undefined {
    if (this.#sets.length === 0) return undefined
    return this.#sets[pick(this.#sets.length)]!
  }

  /** Answer a peer's bit vector (PROTOCOL.md 5.4). */
  handleBitVec(index: bigint, bits: Uint8Array, shuffle: <T>(xs: T[]) => T[]): BitVecOutcome {
    const set = this.#sets.find((s) => s.index === index)
    if (!set) return { kind: 'ignore' }
    const n = set.sorted.length
    if (bits.length !== Math.ceil(n / 8) && bits.length !== Math.floor(n / 8) + 1) return { kind: 'kill', reason: 'BitVecLengthMismatch' }
    const theirs = BitVec.fromWire(n, bits)
    if (!theirs) return { kind: 'kill', reason: 'BitVecExtraBit' }
    // Only what we hold and they lack (one native call; a converged network's vectors are full).
    const peers: Peer[] = []
    for (const i of set.bits.lacking(theirs)) {
      const k = set.hexes[i]!
      if (k === this.#me) peers.push(this.o.myRecord)
      else {
        const r = this.#entries.get(k)?.record
        if (r) peers.push(r)
      }
    }
    if (peers.length === 0) return { kind: 'ignore' }
    return { kind: 'reply', peers: peers.length > this.o.peerGossipMaxCount ? shuffle(peers).slice(0, this.o.peerGossipMaxCount) : peers }
  }

  /**
   * Apply a peer's Peers message (PROTOCOL.md 5.3); the first bad entry kills the sender, with the
   * entries before it applied. The checks that need no signature run first, in order, up to the first
   * that fails; the signatures of the entries before that one are then verified in one batch (a third of
   * the cost per signature for a full message), and applied in order up to the first that does not
   * verify. Same outcome, reason and updates as checking entry by entry.
   */
  handlePeers(peers: Peer[], nowMs: number): PeersOutcome {
    const updated: Uint8Array[] = []
    if (peers.length > this.o.peerGossipMaxCount) return { kind: 'kill', reason: 'TooManyPeers', updated }
    const latest = BigInt(Math.floor(nowMs)) + BigInt(this.o.synchronyBoundMs)
    const todo: { k: string; pk: Uint8Array; p: Peer }[] = []
    let failure: KillReason | undefined
    for (const p of peers) {
      failure = this.#precheck(p)
      if (failure !== undefined) break
      const pk = p.signature!.publicKey
      const k = hexOf(pk)
      // The very record we hold was verified when stored, and would not be newer: nothing to do (in a
      // converged network most gossiped records are ones we hold, and verifying is the tracker's main cost).
      if (sameRecord(this.#entries.get(k)?.record, p)) continue
      if (!this.o.verifier.validate(pk)) failure = 'InvalidPublicKey'
      else if (k === this.#me) failure = 'ReceivedSelf'
      // A record from too far ahead is refused as a bad signature, after the checks above.
      else if (p.timestamp > latest) failure = 'InvalidSignature'
      if (failure !== undefined) break
      todo.push({ k, pk, p })
    }
    const items = todo.map(({ pk, p }) => ({ namespace: this.o.ipNamespace, msg: peerRecordPayload(p.socket, p.timestamp), publicKey: pk, sig: p.signature!.signature }))
    const v = this.o.verifier
    const ok = items.length === 1 ? [v.verify(items[0]!.namespace, items[0]!.msg, items[0]!.publicKey, items[0]!.sig)] : v.verifyBatch(items)
    for (let i = 0; i < todo.length; i++) {
      if (!ok[i]) return { kind: 'kill', reason: 'InvalidSignature', updated }
      const { k, pk, p } = todo[i]!
      if (this.#update(k, pk, p)) updated.push(pk)
    }
    return failure === undefined ? { kind: 'ok', updated } : { kind: 'kill', reason: failure, updated }
  }

  /** The checks of one entry that come before its key is looked at: undefined when it passes them. */
  #precheck(p: Peer): KillReason | undefined {
    if (p.socket.length !== 6 && p.socket.length !== 18) return 'InvalidIPLength'
    if (!this.o.allowPrivateIps && !isGlobal(decodeSocket(p.socket))) return 'PrivateIPsNotAllowed'
    if (!p.signature) return 'PeerUnsigned'
    return undefined
  }

  /** Store a record if the key is allowed and the record is strictly newer; set its bits. Never in lookup mode. */
  #update(k: string, pk: Uint8Array, p: Peer): boolean {
    if (this.o.mode === 'lookup') return false
    const e = this.#entries.get(k)
    if (!e || k === this.#me || !this.#inSomeSet(k)) return false
    if (e.record && p.timestamp <= e.record.timestamp) return false
    e.record = ownRecord(e.publicKey, p)
    for (const s of this.#sets) {
      const i = s.at.get(k)
      if (i !== undefined) s.bits.set(i)
    }
    return true
  }
}

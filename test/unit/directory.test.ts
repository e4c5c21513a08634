import { describe, expect, it } from 'vitest'
import { Directory, compareBytes } from '../../src/authenticated/tracker/directory.js'
import { encodeSocket, peerRecordPayload, type Peer } from '../../src/codec/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { utf8 } from '../helpers/backends.js'

const IP_NS = utf8('test_namespace_TRACKER_IP')
const keys = Array.from({ length: 10 }, (_, i) => Ed25519.fromSeed(i))
const pk = (i: number) => keys[i]!.publicKey
const NOW = 1_733_600_000_000

function record(i: number, host: string, port: number, ts: number): Peer {
  const socket = encodeSocket({ host, port })
  const timestamp = BigInt(ts)
  return { socket, timestamp, signature: { publicKey: pk(i), signature: keys[i]!.sign(IP_NS, peerRecordPayload(socket, timestamp)) } }
}

function directory(opts: Partial<ConstructorParameters<typeof Directory>[0]> = {}): Directory {
  return new Directory({
    me: pk(0),
    myRecord: record(0, '10.0.0.1', 3000, NOW),
    verifier: Ed25519.scheme,
    ipNamespace: IP_NS,
    trackedPeerSets: 2,
    peerGossipMaxCount: 32,
    allowPrivateIps: true,
    synchronyBoundMs: 5_000,
    bootstrappers: [],
    mode: 'discovery',
    bootstrapperPolicy: 'keep',
    ...opts,
  })
}
const noShuffle = <T>(xs: T[]) => xs

describe('Directory: peer sets', () => {
  it('sorts keys by raw bytes, sets our own bit, and only accepts increasing indices', () => {
    const d = directory()
    expect(d.register(5n, [pk(3), pk(0), pk(1)])).toBe(true)
    const set = d.sets[0]!
    expect(set.sorted.map((k) => Buffer.from(k).toString('hex'))).toEqual([pk(3), pk(0), pk(1)].sort(compareBytes).map((k) => Buffer.from(k).toString('hex')))
    const mine = set.sorted.findIndex((k) => compareBytes(k, pk(0)) === 0)
    expect(set.bits.get(mine)).toBe(true)
    expect(set.bits.count()).toBe(1)
    expect(d.register(5n, [pk(4)])).toBe(false)
    expect(d.register(4n, [pk(4)])).toBe(false)
  })

  it('keeps only the newest trackedPeerSets sets and forgets keys no set holds', () => {
    const d = directory({ trackedPeerSets: 2 })
    d.register(1n, [pk(0), pk(1)])
    d.register(2n, [pk(0), pk(2)])
    d.register(3n, [pk(0), pk(3)])
    expect(d.sets.map((s) => s.index)).toEqual([2n, 3n])
    expect(d.isTracked(pk(1))).toBe(false)
    expect(d.isAllowed(pk(2))).toBe(true)
    expect(d.isAllowed(pk(0))).toBe(false) // never ourselves
    expect(d.size).toBe(2) // keys 2 and 3
  })

  it('bootstrappers are tracked forever and dialable, but may not connect unless in a set', () => {
    const d = directory({ bootstrappers: [{ publicKey: pk(9), address: '127.0.0.1:9' }] })
    expect(d.isTracked(pk(9))).toBe(true)
    expect(d.isAllowed(pk(9))).toBe(false)
    expect(d.dialable()).toEqual([{ publicKey: pk(9), address: '127.0.0.1:9' }])
    d.register(1n, [pk(0), pk(9)])
    expect(d.isAllowed(pk(9))).toBe(true)
  })

  it('gossips floor(n/8)+1 bytes for a set of n', () => {
    const d = directory()
    d.register(1n, keys.slice(0, 8).map((k) => k.publicKey))
    expect(d.gossip(() => 0)).toMatchObject({ index: 1n })
    expect(d.gossip(() => 0)!.bits.length).toBe(2)
    expect(directory().gossip(() => 0)).toBeUndefined()
  })
})

describe('Directory: bit vectors and records', () => {
  const setup = () => {
    const d = directory()
    d.register(7n, keys.slice(0, 8).map((k) => k.publicKey))
    return d
  }

  it('answers a bit vector with our own record and the learned records the asker lacks', () => {
    const d = setup()
    expect(d.handlePeers([record(2, '10.0.0.2', 1, NOW)], NOW).updated).toHaveLength(1)
    const r = d.handleBitVec(7n, new Uint8Array(2), noShuffle)
    expect(r.kind).toBe('reply')
    const got = r.kind === 'reply' ? r.peers.map((p) => Buffer.from(p.signature!.publicKey).toString('hex')).sort() : []
    expect(got).toEqual([pk(0), pk(2)].map((k) => Buffer.from(k).toString('hex')).sort())
    // An asker that knows everything we know gets nothing.
    const all = d.sets[0]!.bits.toWire()
    expect(d.handleBitVec(7n, all, noShuffle).kind).toBe('ignore')
    // An unknown index is ignored.
    expect(d.handleBitVec(99n, new Uint8Array(2), noShuffle).kind).toBe('ignore')
  })

  it('accepts ceil(n/8) and floor(n/8)+1 bytes, kills on any other length or a bit past n', () => {
    const d = setup() // n = 8
    expect(d.handleBitVec(7n, new Uint8Array(1), noShuffle).kind).toBe('reply')
    expect(d.handleBitVec(7n, new Uint8Array(2), noShuffle).kind).toBe('reply')
    expect(d.handleBitVec(7n, new Uint8Array(3), noShuffle)).toEqual({ kind: 'kill', reason: 'BitVecLengthMismatch' })
    expect(d.handleBitVec(7n, Uint8Array.of(0, 1), noShuffle)).toEqual({ kind: 'kill', reason: 'BitVecExtraBit' })
  })

  it('sends at most peerGossipMaxCount records, chosen by the shuffle', () => {
    const d = directory({ peerGossipMaxCount: 2 })
    d.register(1n, keys.slice(0, 5).map((k) => k.publicKey))
    d.handlePeers([1, 2].map((i) => record(i, '10.0.0.9', i, NOW)), NOW)
    const r = d.handleBitVec(1n, new Uint8Array(1), (xs) => [...xs].reverse())
    expect(r.kind === 'reply' && r.peers.length).toBe(2)
  })

  it('replaces a record only with a strictly newer one, and sets its bits', () => {
    const d = setup()
    expect(d.handlePeers([record(3, '10.0.0.3', 1, NOW)], NOW).updated).toHaveLength(1)
    expect(d.handlePeers([record(3, '10.0.0.4', 1, NOW)], NOW).updated).toHaveLength(0)
    expect(d.handlePeers([record(3, '10.0.0.5', 1, NOW + 1)], NOW).updated).toHaveLength(1)
    expect(d.dialable().find((x) => compareBytes(x.publicKey, pk(3)) === 0)?.address).toBe('10.0.0.5:1')
    expect(d.sets[0]!.bits.count()).toBe(2)
    // A key outside every set is ignored silently.
    expect(d.handlePeers([record(9, '10.0.0.9', 1, NOW)], NOW)).toEqual({ kind: 'ok', updated: [] })
  })

  it.each([
    ['TooManyPeers', (d: Directory) => d.handlePeers(Array.from({ length: 33 }, () => record(1, '10.0.0.1', 1, NOW)), NOW)],
    ['InvalidIPLength', (d: Directory) => d.handlePeers([{ ...record(1, '10.0.0.1', 1, NOW), socket: new Uint8Array(7) }], NOW)],
    ['PeerUnsigned', (d: Directory) => d.handlePeers([{ socket: encodeSocket({ host: '10.0.0.1', port: 1 }), timestamp: 1n }], NOW)],
    ['InvalidPublicKey', (d: Directory) => d.handlePeers([{ ...record(1, '10.0.0.1', 1, NOW), signature: { publicKey: new Uint8Array(3), signature: new Uint8Array(64) } }], NOW)],
    ['ReceivedSelf', (d: Directory) => d.handlePeers([record(0, '10.0.0.1', 1, NOW)], NOW)],
    ['InvalidSignature', (d: Directory) => d.handlePeers([{ ...record(1, '10.0.0.1', 1, NOW), timestamp: BigInt(NOW + 1) }], NOW)],
    ['InvalidSignature', (d: Directory) => d.handlePeers([record(1, '10.0.0.1', 1, NOW + 5_001)], NOW)],
  ] as const)('kills the sender: %s', (reason, act) => {
    expect(act(setup())).toMatchObject({ kind: 'kill', reason })
  })

  it('does not verify again a record it already holds byte for byte, but still checks any other', () => {
    let verified = 0
    const counting = { ...Ed25519.scheme, verify: (...a: Parameters<typeof Ed25519.scheme.verify>) => (verified++, Ed25519.scheme.verify(...a)) }
    const d = directory({ verifier: counting })
    d.register(1n, keys.slice(0, 4).map((k) => k.publicKey))
    const r = record(3, '10.0.0.3', 1, NOW)
    expect(d.handlePeers([r], NOW).updated).toHaveLength(1)
    expect(verified).toBe(1)
    // Gossip repeats records a node holds: the same bytes again cost no verification.
    expect(d.handlePeers([{ ...r, socket: r.socket.slice() }, r], NOW)).toEqual({ kind: 'ok', updated: [] })
    expect(verified).toBe(1)
    // Same timestamp and address, another signature: verified, and a forgery still kills the sender.
    const forged = { ...r, signature: { publicKey: pk(3), signature: keys[2]!.sign(IP_NS, peerRecordPayload(r.socket, r.timestamp)) } }
    expect(d.handlePeers([forged], NOW)).toMatchObject({ kind: 'kill', reason: 'InvalidSignature' })
    expect(verified).toBe(2)
  })

  it('verifies a message of records as one batch, with the outcome of checking entry by entry', () => {
    let batches = 0
    const counting = { ...Ed25519.scheme, verifyBatch: (items: Parameters<typeof Ed25519.scheme.verifyBatch>[0]) => (batches++, Ed25519.scheme.verifyBatch(items)) }
    const fresh = () => {
      const d = directory({ verifier: counting })
      d.register(1n, keys.map((k) => k.publicKey))
      return d
    }
    const good = (i: number) => record(i, `10.0.0.${i}`, 1, NOW)
    const forged = (i: number) => ({ ...good(i), timestamp: BigInt(NOW - 1) })
    const hex = (xs: Uint8Array[]) => xs.map((x) => Buffer.from(x).toString('hex'))
    // All good: one batch, every record applied in order.
    expect(fresh().handlePeers([good(1), good(2), good(3)], NOW)).toEqual({ kind: 'ok', updated: [pk(1), pk(2), pk(3)] })
    expect(batches).toBe(1)
    // A forgery before a later structural failure: the forgery is what kills, entries before it stay.
    let r = fresh().handlePeers([good(1), forged(2), good(3), record(0, '10.0.0.1', 1, NOW)], NOW)
    expect(r).toMatchObject({ kind: 'kill', reason: 'InvalidSignature' })
    expect(hex(r.updated)).toEqual(hex([pk(1)]))
    // A structural failure before a forgery: that failure kills, and the good entries before it stay.
    r = fresh().handlePeers([good(1), good(2), record(0, '10.0.0.1', 1, NOW), forged(3)], NOW)
    expect(r).toMatchObject({ kind: 'kill', reason: 'ReceivedSelf' })
    expect(hex(r.updated)).toEqual(hex([pk(1), pk(2)]))
    // A record from too far ahead counts as a bad signature at its own place.
    r = fresh().handlePeers([good(1), record(2, '10.0.0.2', 1, NOW + 5_001), forged(3)], NOW)
    expect(r).toMatchObject({ kind: 'kill', reason: 'InvalidSignature' })
    expect(hex(r.updated)).toEqual(hex([pk(1)]))
  })

  it('refuses private addresses unless allowed, and applies entries before the bad one', () => {
    const d = directory({ allowPrivateIps: false })
    d.register(1n, keys.slice(0, 4).map((k) => k.publicKey))
    const r = d.handlePeers([record(1, '8.8.8.8', 1, NOW), record(2, '127.0.0.1', 1, NOW)], NOW)
    expect(r).toMatchObject({ kind: 'kill', reason: 'PrivateIPsNotAllowed' })
    expect(r.updated).toHaveLength(1)
  })
})

describe('Config', () => {
  it('presets copy the reference values, and verifyConfig names the bad field', async () => {
    const { Config, verifyConfig } = await import('../../src/authenticated/config.js')
    const signer = Ed25519.fromSeed(1)
    const rec = Config.recommended(signer, utf8('ns'), '127.0.0.1:3000', [], 1 << 20)
    expect(rec).toMatchObject({ dialable: '127.0.0.1:3000', allowPrivateIps: false, gossipBitVecFrequencyMs: 50_000, dialFrequencyMs: 60_000, trackedPeerSets: 4, peerGossipMaxCount: 32, mailboxSize: 1000 })
    expect(rec.allowedConnectionRatePerPeer.periodNs).toBe(60e9)
    expect(Config.aggressive(signer, utf8('ns'), '127.0.0.1:3000', [], 1 << 20)).toMatchObject({ allowPrivateIps: true, gossipBitVecFrequencyMs: 5_000, dialFrequencyMs: 5_000 })
    expect(Config.test(signer, utf8('ns'), '127.0.0.1:3000', [], 1 << 20).dialRate.burst).toBe(1024)
    expect(verifyConfig(rec)).toBe(rec)
    expect(() => verifyConfig({ ...rec, mailboxSize: 0 })).toThrow(/^mailboxSize: must be an integer/)
    expect(() => verifyConfig({ ...rec, maxMessageSize: 64 })).toThrow(/^maxMessageSize: must be an integer in 256\.\./)
    expect(() => verifyConfig({ ...rec, listen: 'localhost:3000' })).toThrow(/^listen: must be an IP literal/)
    expect(() => verifyConfig({ ...rec, bootstrappers: [{ publicKey: new Uint8Array(3), address: '127.0.0.1:1' }] })).toThrow(/^bootstrappers\[0\]\.publicKey/)
    expect(rec).toMatchObject({ mode: 'discovery', allowInboundFromAnyIp: false, bootstrappersOutsideSets: 'keep', blockDurationMs: 3_600_000 })
    expect(() => verifyConfig({ ...rec, mode: 'static' as never })).toThrow(/^mode: must be 'discovery' or 'lookup'/)
    expect(() => verifyConfig({ ...rec, mode: 'lookup', bootstrappers: [{ publicKey: signer.publicKey, address: '127.0.0.1:1' }] })).toThrow(/^bootstrappers: must be empty in lookup mode/)
    expect(() => verifyConfig({ ...rec, bootstrappersOutsideSets: 'drop' as never })).toThrow(/^bootstrappersOutsideSets:/)
    expect(() => verifyConfig({ ...rec, blockDurationMs: 0 })).toThrow(/^blockDurationMs:/)
    expect(() => verifyConfig({ ...rec, allowInboundFromAnyIp: 1 as never })).toThrow(/^allowInboundFromAnyIp:/)
  })
})

describe('Directory: lookup mode and discovery-only bootstrappers', () => {
  it('lookup mode: addresses come with the set, every bit is set, gossiped records are checked but not stored', () => {
    const d = directory({ mode: 'lookup' })
    const peers = [0, 1, 2].map((i) => pk(i))
    d.register(1n, peers, ['10.0.0.1:1', '10.0.0.2:1', '10.0.0.3:1'])
    expect(d.sets[0]!.bits.count()).toBe(3)
    expect(Array.from(d.gossip(() => 0)!.bits)).toEqual([0b111])
    expect(d.dialable().map((x) => x.address).sort()).toEqual(['10.0.0.2:1', '10.0.0.3:1'])
    expect(d.handlePeers([record(2, '10.0.0.9', 1, NOW)], NOW)).toEqual({ kind: 'ok', updated: [] })
    expect(d.handlePeers([record(2, '10.0.0.9', 1, NOW + 60_000)], NOW)).toMatchObject({ kind: 'kill', reason: 'InvalidSignature' })
    expect(d.addressOf(pk(2))).toBe('10.0.0.3:1')
    expect(d.setAddress(pk(2), '10.0.0.33:1')).toBe('changed')
    expect(d.setAddress(pk(2), '10.0.0.33:1')).toBe('same')
    expect(d.setAddress(pk(9), '10.0.0.9:1')).toBe('unknown')
    // A newer set moves a key; the asker lacking our record still gets it.
    d.register(2n, [pk(0), pk(1)], ['10.0.0.1:1', '10.0.0.22:1'])
    expect(d.addressOf(pk(1))).toBe('10.0.0.22:1')
    const r = d.handleBitVec(2n, new Uint8Array(1), noShuffle)
    expect(r.kind === 'reply' && r.peers.map((p) => compareBytes(p.signature!.publicKey, pk(0)))).toEqual([0])
    expect(d.needsBootstrap()).toBe(false)
  })

  it('discovery-only: a bootstrapper outside every set is dialable only while some tracked key has no address', () => {
    const boot = [{ publicKey: pk(9), address: '127.0.0.1:9' }]
    const keep = directory({ bootstrappers: boot })
    const only = directory({ bootstrappers: boot, bootstrapperPolicy: 'discovery-only' })
    for (const d of [keep, only]) d.register(1n, [pk(0), pk(1)])
    expect(only.isBootstrapperOutsideSets(pk(9))).toBe(true)
    expect(only.needsBootstrap()).toBe(true)
    expect(only.dialable().map((x) => x.address)).toEqual(['127.0.0.1:9'])
    for (const d of [keep, only]) d.handlePeers([record(1, '10.0.0.2', 1, NOW)], NOW)
    expect(only.needsBootstrap()).toBe(false)
    expect(only.dialable().map((x) => x.address)).toEqual(['10.0.0.2:1'])
    expect(keep.dialable().map((x) => x.address).sort()).toEqual(['10.0.0.2:1', '127.0.0.1:9'])
    // A set with an unknown key makes it needed again; a set holding it makes it an ordinary member.
    only.register(2n, [pk(0), pk(1), pk(3)])
    expect(only.needsBootstrap()).toBe(true)
    only.register(3n, [pk(0), pk(9)])
    expect(only.isBootstrapperOutsideSets(pk(9))).toBe(false)
  })
})

/**
 * Fuzz targets: every decoder and state machine that reads bytes from the network, each with a
 * fast-check input generator (random bytes, and mutations of valid encodings so inputs get past the
 * first checks) and a check that throws only if the target misbehaves: an exception that is not one of
 * our typed errors, an outcome outside the target's contract, or native and fallback backends
 * disagreeing on the same bytes. Used by `test/prop/fuzz.test.ts` (a few thousand cases per target in
 * every test run, plus the saved corpus) and by `npm run fuzz` (a million per target).
 */
import fc from 'fast-check'
import { Directory } from '../../src/authenticated/tracker/directory.js'
import { decodeSocket, encodeHandshake, encodeMessage, encodePeer, encodeSocket, handshakePayload, peerRecordPayload, tryDecodeMessage, decodeMessage, decodePeer, type Message, type Peer } from '../../src/codec/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { DecodeError, HandshakeError, isP2pError } from '../../src/errors.js'
import type { Binding } from '../../src/native/binding.js'
import { jsBinding, nativeBinding } from '../../src/native/load.js'
import { StreamConfig } from '../../src/stream/config.js'
import { verifyHandshake } from '../../src/stream/handshake.js'

export interface Target<T> {
  name: string
  arbitrary: fc.Arbitrary<T>
  /** Throws (any error) when the target misbehaves on `input`. */
  check(input: T): void
  /** JSON-safe form of an input, for the corpus; and back. */
  save(input: T): unknown
  load(saved: unknown): T
}

/** Input bytes: random, or a valid encoding with a few bytes flipped, cut, or inserted. */
function mutated(valid: fc.Arbitrary<Uint8Array>, maxLength = 600): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
    fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  )
  const mutant = fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([bytes, edits]) => {
    let b = Uint8Array.from(bytes)
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % (b.length + (e.op === 'insert' ? 1 : 0))
      if (e.op === 'flip' && b.length > 0) b[at]! ^= 1 << e.bit
      else if (e.op === 'cut') b = b.subarray(0, at)
      else if (e.op === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...e.bytes, ...b.subarray(at)])
    }
    return b
  })
  return fc.oneof({ arbitrary: fc.uint8Array({ maxLength }), weight: 1 }, { arbitrary: valid, weight: 1 }, { arbitrary: mutant, weight: 4 })
}

const bytesTarget = (name: string, arbitrary: fc.Arbitrary<Uint8Array>, check: (b: Uint8Array) => void): Target<Uint8Array> => ({
  name,
  arbitrary,
  check,
  save: (b) => Buffer.from(b).toString('hex'),
  load: (s) => Uint8Array.from(Buffer.from(s as string, 'hex')),
})

/** Only our typed errors may escape. */
function typed(f: () => void, allowed: (e: unknown) => boolean = (e) => isP2pError(e)): void {
  try {
    f()
  } catch (e) {
    if (!allowed(e)) throw new Error(`untyped failure: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`)
  }
}

const signer = Ed25519.fromSeed(1)
const other = Ed25519.fromSeed(2)
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
const key32 = fc.oneof(fc.constant(signer.publicKey), fc.constant(other.publicKey), fc.uint8Array({ minLength: 32, maxLength: 32 }))

const validPeer: fc.Arbitrary<Peer> = fc.tuple(fc.constantFrom(signer, other), fc.nat({ max: 255 }), fc.nat({ max: 65535 }), u64).map(([s, host, port, ts]) => {
  const socket = encodeSocket({ host: `10.0.0.${host}`, port })
  return { socket, timestamp: ts, signature: { publicKey: s.publicKey, signature: s.sign(IP_NS, peerRecordPayload(socket, ts)) } }
})
const validMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('bitVec' as const), index: u64, bits: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ type: fc.constant('peers' as const), peers: fc.array(validPeer, { maxLength: 3 }) }),
  fc.record({ type: fc.constant('data' as const), channel: fc.nat({ max: 0xffff_ffff }), message: fc.uint8Array({ maxLength: 200 }) }),
)

const STREAM_NS = new TextEncoder().encode('fuzz_STREAM')
const IP_NS = new TextEncoder().encode('fuzz_TRACKER_IP')
const NOW = 1_700_000_000_000
const streamCfg = StreamConfig.recommended(signer, STREAM_NS, 1 << 16)
const validHandshake = fc.tuple(key32, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: -20_000, max: 20_000 }), fc.constantFrom(signer, other)).map(([recipient, eph, skew, s]) => {
  const ts = BigInt(NOW + skew)
  return encodeHandshake({ recipientPublicKey: recipient, ephemeralPublicKey: eph, timestamp: ts, signature: { publicKey: s.publicKey, signature: s.sign(STREAM_NS, handshakePayload(recipient, eph, ts)) } })
})

/** Protobuf messages of the p2p protocol: decode or DecodeError; what decodes re-encodes to a fixed point. */
export const messageDecoder = bytesTarget('message-decoder', mutated(validMessage.map(encodeMessage)), (b) => {
  const m = tryDecodeMessage(b)
  if (m instanceof DecodeError) return
  const again = encodeMessage(m)
  if (Buffer.compare(Buffer.from(encodeMessage(decodeMessage(again))), Buffer.from(again)) !== 0) throw new Error('re-encoding is not a fixed point')
  typed(() => m.type === 'peers' && m.peers.forEach((p) => decodeSocket(p.socket)))
})

/** The listener's handshake check: a verified handshake or a HandshakeError, nothing else. */
export const handshakeVerifier = bytesTarget('handshake-verifier', mutated(validHandshake), (b) => {
  let verified: ReturnType<typeof verifyHandshake> | undefined
  typed(() => (verified = verifyHandshake(streamCfg, NOW, b)), (e) => e instanceof HandshakeError)
  if (verified && !Ed25519.validate(verified.peer)) throw new Error('accepted a handshake from an invalid key')
})

/** Bit vectors from a peer: ignore, kill or reply, and a reply never exceeds peerGossipMaxCount. */
export const bitVecHandler: Target<{ index: bigint; bits: Uint8Array }> = {
  name: 'bitvec-handler',
  arbitrary: fc.record({ index: fc.oneof(fc.constantFrom(0n, 1n, 2n), u64), bits: mutated(fc.uint8Array({ minLength: 1, maxLength: 3 }), 40) }),
  check: ({ index, bits }) => {
    const d = directory()
    let out: ReturnType<Directory['handleBitVec']> | undefined
    typed(() => (out = d.handleBitVec(index, bits, (xs) => xs)), () => false)
    if (!out || !['ignore', 'kill', 'reply'].includes(out.kind)) throw new Error('no outcome')
    if (out.kind === 'reply' && (out.peers.length === 0 || out.peers.length > 4)) throw new Error(`reply of ${out.peers.length} records`)
  },
  save: ({ index, bits }) => ({ index: String(index), bits: Buffer.from(bits).toString('hex') }),
  load: (s) => ({ index: BigInt((s as { index: string }).index), bits: Uint8Array.from(Buffer.from((s as { bits: string }).bits, 'hex')) }),
}

/** Peers messages: ok or kill; only tracked keys with strictly newer, valid records are stored. */
export const peersHandler: Target<Uint8Array> = bytesTarget('peers-handler', mutated(fc.array(validPeer, { maxLength: 6 }).map((ps) => encodeMessage({ type: 'peers', peers: ps }))), (b) => {
  const m = tryDecodeMessage(b)
  if (m instanceof DecodeError || m.type !== 'peers') return
  const d = directory()
  let out: ReturnType<Directory['handlePeers']> | undefined
  typed(() => (out = d.handlePeers(m.peers, NOW)), () => false)
  if (!out || !['ok', 'kill'].includes(out.kind)) throw new Error('no outcome')
  const tracked = new Set([signer.publicKey, other.publicKey, ...bigSet].map((k) => Buffer.from(k).toString('hex')))
  for (const k of out.updated) if (!tracked.has(Buffer.from(k).toString('hex'))) throw new Error('stored a record of an untracked key')
  for (const p of m.peers) typed(() => decodePeer(encodePeer(p)))
})

const dirMe = Ed25519.fromSeed(3)
const dirSocket = encodeSocket({ host: '10.0.0.3', port: 4000 })
const dirRecord: Peer = { socket: dirSocket, timestamp: 1n, signature: { publicKey: dirMe.publicKey, signature: dirMe.sign(IP_NS, peerRecordPayload(dirSocket, 1n)) } }
const bigSet = Array.from({ length: 9 }, (_, i) => Ed25519.fromSeed(10 + i).publicKey).concat(dirMe.publicKey)

/** A fresh directory tracking set 0 (3 keys, 2 with records to gossip) and set 1 (10 keys). */
function directory(): Directory {
  const d = new Directory({
    me: dirMe.publicKey,
    myRecord: dirRecord,
    verifier: Ed25519.scheme,
    ipNamespace: IP_NS,
    trackedPeerSets: 2,
    peerGossipMaxCount: 4,
    allowPrivateIps: true,
    synchronyBoundMs: 5_000,
    bootstrappers: [],
    mode: 'discovery',
    bootstrapperPolicy: 'keep',
  })
  d.register(0n, [signer.publicKey, other.publicKey, dirMe.publicKey])
  d.register(1n, bigSet)
  return d
}

const KEY = new Uint8Array(32).fill(7)
const MAX_PLAIN = 256

/** A stream of sealed frames (from the dialer) as chunks, to mutate. */
const validFrames = fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 4 }).map((msgs) => {
  const tx = new jsBinding.SendCipher(KEY, true, MAX_PLAIN)
  return tx.sealFrames(Uint8Array.from(msgs.flatMap((m) => [...m])), Uint32Array.from(msgs.map((m) => m.length)))
})

/**
 * The frame opener of each backend, fed the input in two chunks: opened plaintexts, consumed bytes and
 * the error code must be within bounds, and the native and fallback backends must give identical results.
 */
export const frameOpener: Target<{ bytes: Uint8Array; split: number }> = {
  name: 'frame-opener',
  arbitrary: fc.record({ bytes: mutated(validFrames, 400), split: fc.nat() }),
  check: ({ bytes, split }) => {
    const results = [jsBinding, ...(nativeBinding ? [nativeBinding] : [])].map((b) => openAll(b, bytes, split))
    for (const r of results) {
      if (r.opened.some((m) => m.length > MAX_PLAIN)) throw new Error('opened a plaintext over the limit')
    }
    if (results.length === 2 && JSON.stringify(results[0]) !== JSON.stringify(results[1])) {
      throw new Error(`backends disagree: js ${JSON.stringify(results[0])} native ${JSON.stringify(results[1])}`)
    }
  },
  save: ({ bytes, split }) => ({ bytes: Buffer.from(bytes).toString('hex'), split }),
  load: (s) => ({ bytes: Uint8Array.from(Buffer.from((s as { bytes: string }).bytes, 'hex')), split: (s as { split: number }).split }),
}

function openAll(b: Binding, bytes: Uint8Array, split: number): { opened: number[][]; error: string | null; pending: number } {
  const rx = new b.RecvCipher(KEY, false, MAX_PLAIN)
  const at = bytes.length === 0 ? 0 : split % (bytes.length + 1)
  const opened: number[][] = []
  let pending: Uint8Array = new Uint8Array(0)
  let error: string | null = null
  for (const piece of [bytes.subarray(0, at), bytes.subarray(at)]) {
    const chunk = Uint8Array.from([...pending, ...piece])
    let r: ReturnType<typeof rx.openFrames> | undefined
    typed(() => (r = rx.openFrames(chunk)), () => false)
    if (r!.consumed < 0 || r!.consumed > chunk.length) throw new Error(`consumed ${r!.consumed} of ${chunk.length}`)
    let off = 0
    for (const len of r!.lens) {
      opened.push([...r!.plain.subarray(off, off + len)])
      off += len
    }
    if (r!.error) {
      error = r!.error
      break
    }
    pending = chunk.slice(r!.consumed)
  }
  return { opened, error, pending: pending.length }
}

/** zstd with a cap, as channels decompress: output within the cap, or null; both backends agree. */
export const zstdDecompressor = bytesTarget(
  'zstd-decompressor',
  mutated(fc.uint8Array({ maxLength: 300 }).map((d) => jsBinding.zstdCompress(d, 3))),
  (b) => {
    const outs = [jsBinding, ...(nativeBinding ? [nativeBinding] : [])].map((be) => {
      let out: Uint8Array | null = null
      typed(() => (out = be.zstdDecompress(b, 1024)), () => false)
      if (out !== null && (out as Uint8Array).length > 1024) throw new Error('output over the cap')
      return out === null ? null : Buffer.from(out).toString('hex')
    })
    if (outs.length === 2 && outs[0] !== outs[1]) throw new Error('backends disagree')
  },
)

export const targets: Target<unknown>[] = [messageDecoder, handshakeVerifier, bitVecHandler, peersHandler, frameOpener, zstdDecompressor] as Target<unknown>[]

/**
 * The wire messages of commonware-stream 0.0.3 and commonware-p2p 0.0.25, encoded as prost 0.13 does.
 *
 * ## Design
 * Schemas (PROTOCOL.md 2.1, 4.1):
 * `Handshake{1 recipient_public_key, 2 ephemeral_public_key, 3 uint64 timestamp, 4 Signature}`,
 * `Signature{1 public_key, 2 signature}`, `Message{oneof 1 BitVec, 2 Peers, 3 Data}`,
 * `BitVec{1 uint64 index, 2 bits}`, `Peers{1 repeated Peer}`, `Peer{1 socket, 2 uint64 timestamp,
 * 3 Signature}`, `Data{1 uint32 channel, 2 message}`.
 * Encoding omits scalars and bytes equal to their default, always writes a set oneof variant and a
 * present sub-message (even when empty) and writes fields in ascending order, which gives prost's exact
 * bytes. Decoding accepts any field order, keeps the last of a repeated scalar, merges a repeated
 * sub-message, skips unknown fields and truncates `uint32` to 32 bits. Decoded `bytes` are views into
 * the input buffer (no copy): copy them if the buffer is reused.
 * A `Message` with no payload decodes as `{ type: 'none' }`, which receivers ignore (the protocol's
 * forward-compatibility hook).
 *
 * ## Not provided
 * Validation of field contents (key lengths, socket lengths): that is the job of the layer that uses
 * them, which knows the scheme and the rules.
 *
 * ## Example
 * ```ts
 * encodeMessage({ type: 'data', channel: 7, message: utf8('hi') }) // 1a 06 08 07 12 02 68 69
 * decodeMessage(bytes) // { type: 'data', channel: 7, message: Uint8Array [0x68, 0x69] }
 * ```
 */
import { DecodeError } from '../errors.js'
import { Reader, WIRE_BYTES, WIRE_VARINT, expectWireType, varintSize, writeVarint } from './varint.js'
import { alloc } from '../utils/slab.js'

export interface Signature {
  publicKey: Uint8Array
  signature: Uint8Array
}

export interface Handshake {
  recipientPublicKey: Uint8Array
  ephemeralPublicKey: Uint8Array
  /** Milliseconds since the Unix epoch (u64). */
  timestamp: bigint
  signature?: Signature
}

export interface Peer {
  /** 6 bytes (IPv4 + port) or 18 bytes (IPv6 + port); see address.ts. */
  socket: Uint8Array
  /** Milliseconds since the Unix epoch (u64). */
  timestamp: bigint
  signature?: Signature
}

export type Message =
  | { type: 'bitVec'; index: bigint; bits: Uint8Array }
  | { type: 'peers'; peers: Peer[] }
  | { type: 'data'; channel: number; message: Uint8Array }
  | { type: 'none' }

const EMPTY = new Uint8Array(0)

// ---- sizes ----

const bytesFieldSize = (b: Uint8Array): number => (b.length === 0 ? 0 : 1 + varintSize(b.length) + b.length)
const varintFieldSize = (v: number | bigint): number => (v === 0 || v === 0n ? 0 : 1 + varintSize(v))
const nestedSize = (len: number): number => 1 + varintSize(len) + len

const signatureSize = (s: Signature): number => bytesFieldSize(s.publicKey) + bytesFieldSize(s.signature)
const peerSize = (p: Peer): number =>
  bytesFieldSize(p.socket) + varintFieldSize(p.timestamp) + (p.signature ? nestedSize(signatureSize(p.signature)) : 0)

function bodySize(m: Message): number {
  switch (m.type) {
    case 'bitVec':
      return varintFieldSize(m.index) + bytesFieldSize(m.bits)
    case 'peers':
      return m.peers.reduce((n, p) => n + nestedSize(peerSize(p)), 0)
    case 'data':
      return varintFieldSize(m.channel) + bytesFieldSize(m.message)
    case 'none':
      return 0
  }
}

// ---- writing ----

class Writer {
  pos = 0
  constructor(readonly buf: Uint8Array) {}
  key(field: number, wire: number): void {
    this.buf[this.pos++] = (field << 3) | wire
  }
  bytes(field: number, b: Uint8Array): void {
    if (b.length === 0) return
    this.key(field, WIRE_BYTES)
    this.pos = writeVarint(this.buf, this.pos, b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }
  varint(field: number, v: number | bigint): void {
    if (v === 0 || v === 0n) return
    this.key(field, WIRE_VARINT)
    this.pos = writeVarint(this.buf, this.pos, v)
  }
  nested(field: number, len: number): void {
    this.key(field, WIRE_BYTES)
    this.pos = writeVarint(this.buf, this.pos, len)
  }
  signature(field: number, s: Signature): void {
    this.nested(field, signatureSize(s))
    this.bytes(1, s.publicKey)
    this.bytes(2, s.signature)
  }
}

export function encodeHandshake(h: Handshake): Uint8Array {
  const size =
    bytesFieldSize(h.recipientPublicKey) +
    bytesFieldSize(h.ephemeralPublicKey) +
    varintFieldSize(h.timestamp) +
    (h.signature ? nestedSize(signatureSize(h.signature)) : 0)
  const w = new Writer(new Uint8Array(size))
  w.bytes(1, h.recipientPublicKey)
  w.bytes(2, h.ephemeralPublicKey)
  w.varint(3, h.timestamp)
  if (h.signature) w.signature(4, h.signature)
  return w.buf
}

export function encodePeer(p: Peer): Uint8Array {
  const w = new Writer(new Uint8Array(peerSize(p)))
  writePeer(w, p)
  return w.buf
}

function writePeer(w: Writer, p: Peer): void {
  w.bytes(1, p.socket)
  w.varint(2, p.timestamp)
  if (p.signature) w.signature(3, p.signature)
}

/** Encoded size of `m` (the plaintext of one frame). */
export function messageSize(m: Message): number {
  return m.type === 'none' ? 0 : nestedSize(bodySize(m))
}

/** Encode into `buf` at `off`; returns the offset after the message. */
export function writeMessage(buf: Uint8Array, off: number, m: Message): number {
  if (m.type === 'none') return off
  const w = new Writer(buf)
  w.pos = off
  switch (m.type) {
    case 'bitVec':
      w.nested(1, bodySize(m))
      w.varint(1, m.index)
      w.bytes(2, m.bits)
      break
    case 'peers':
      w.nested(2, bodySize(m))
      for (const p of m.peers) {
        w.nested(1, peerSize(p))
        writePeer(w, p)
      }
      break
    case 'data':
      w.nested(3, bodySize(m))
      w.varint(1, m.channel)
      w.bytes(2, m.message)
      break
  }
  return w.pos
}

/**
 * Extra copies of every payload `encodeData` makes, from `P2P_GATE_SLOWDOWN` (read once, here): a
 * deliberately slowed build that `npm run bench:gate` must reject (bench/README.md). 0 when unset.
 */
const GATE_SLOWDOWN = Math.max(0, Math.min(64, Number((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.P2P_GATE_SLOWDOWN ?? 0) | 0))

/** `message` copied `GATE_SLOWDOWN` times (the gate's slowed build only). */
function slowCopy(message: Uint8Array): Uint8Array {
  let m = message
  for (let i = 0; i < GATE_SLOWDOWN; i++) m = new Uint8Array(m)
  return m
}

/** Write the Data envelope's header for a non-empty payload of `len` bytes into `out` from 0; returns where the payload goes. */
function writeDataHeader(out: Uint8Array, channel: number, len: number): number {
  out[0] = (3 << 3) | WIRE_BYTES
  let off = writeVarint(out, 1, (channel === 0 ? 0 : 1 + varintSize(channel)) + 1 + varintSize(len) + len)
  if (channel !== 0) {
    out[off++] = (1 << 3) | WIRE_VARINT
    off = writeVarint(out, off, channel)
  }
  out[off++] = (2 << 3) | WIRE_BYTES
  return writeVarint(out, off, len)
}

/**
 * `encodeMessage({ type: 'data', channel, message })`, byte for byte, without the intermediate objects:
 * the encoding of every application message, so it is on the send path of every one of them.
 */
export function encodeData(channel: number, message: Uint8Array): Uint8Array {
  if (GATE_SLOWDOWN > 0) message = slowCopy(message)
  // No payload field: the general encoder (a rare message).
  if (message.length === 0) return encodeMessage({ type: 'data', channel, message })
  const out = alloc(dataOverhead(channel, message.length) + message.length)
  out.set(message, writeDataHeader(out, channel, message.length))
  return out
}

/**
 * A Data message as two parts that are never copied into one array: its envelope header and the
 * payload itself. Their concatenation is `encodeData(channel, message)`. Sealing copies each part
 * once, into the sealed batch, so a large payload goes out without an intermediate copy.
 */
export class DataParts {
  /** Bytes of the whole message (header and payload). */
  readonly length: number
  constructor(readonly parts: readonly [header: Uint8Array, payload: Uint8Array]) {
    this.length = parts[0].length + parts[1].length
  }
}

/** An encoded Data message: in one array, or as `DataParts`. */
export type EncodedData = Uint8Array | DataParts

/** `encodeData(channel, message)` as `DataParts` that refer to `message` itself (not empty). */
export function encodeDataParts(channel: number, message: Uint8Array): DataParts {
  if (GATE_SLOWDOWN > 0) message = slowCopy(message)
  const header = new Uint8Array(dataOverhead(channel, message.length))
  writeDataHeader(header, channel, message.length)
  return new DataParts([header, message])
}

/** The bytes of an encoded Data message as `EncryptedConnection.sendMany` takes them: one array or its parts. */
export function dataFrame(d: EncodedData): Uint8Array | readonly Uint8Array[] {
  return d instanceof Uint8Array ? d : d.parts
}

export function encodeMessage(m: Message): Uint8Array {
  const out = new Uint8Array(messageSize(m))
  writeMessage(out, 0, m)
  return out
}

/** Bytes the `Message{Data}` envelope adds to a payload of `len` bytes on `channel` (at most 18). */
export function dataOverhead(channel: number, len: number): number {
  const body = varintFieldSize(channel) + (len === 0 ? 0 : 1 + varintSize(len) + len)
  return nestedSize(body) - len
}

// ---- reading ----

function readSignature(r: Reader, into?: Signature): Signature {
  const s: Signature = into ?? { publicKey: EMPTY, signature: EMPTY }
  while (!r.done()) {
    const [field, wire] = r.tag()
    if (field === 1) {
      expectWireType(wire, WIRE_BYTES, 'Signature.public_key')
      s.publicKey = r.bytes()
    } else if (field === 2) {
      expectWireType(wire, WIRE_BYTES, 'Signature.signature')
      s.signature = r.bytes()
    } else r.skip(wire, field)
  }
  return s
}

function nested(r: Reader, what: string, wire: number): Reader {
  expectWireType(wire, WIRE_BYTES, what)
  const b = r.bytes()
  return new Reader(b)
}

export function decodeHandshake(buf: Uint8Array): Handshake {
  const r = new Reader(buf)
  const h: Handshake = { recipientPublicKey: EMPTY, ephemeralPublicKey: EMPTY, timestamp: 0n }
  while (!r.done()) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1:
        expectWireType(wire, WIRE_BYTES, 'Handshake.recipient_public_key')
        h.recipientPublicKey = r.bytes()
        break
      case 2:
        expectWireType(wire, WIRE_BYTES, 'Handshake.ephemeral_public_key')
        h.ephemeralPublicKey = r.bytes()
        break
      case 3:
        expectWireType(wire, WIRE_VARINT, 'Handshake.timestamp')
        h.timestamp = r.varintBig()
        break
      case 4:
        h.signature = readSignature(nested(r, 'Handshake.signature', wire), h.signature)
        break
      default:
        r.skip(wire, field)
    }
  }
  return h
}

function readPeer(r: Reader): Peer {
  const p: Peer = { socket: EMPTY, timestamp: 0n }
  while (!r.done()) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1:
        expectWireType(wire, WIRE_BYTES, 'Peer.socket')
        p.socket = r.bytes()
        break
      case 2:
        expectWireType(wire, WIRE_VARINT, 'Peer.timestamp')
        p.timestamp = r.varintBig()
        break
      case 3:
        p.signature = readSignature(nested(r, 'Peer.signature', wire), p.signature)
        break
      default:
        r.skip(wire, field)
    }
  }
  return p
}

export function decodePeer(buf: Uint8Array): Peer {
  return readPeer(new Reader(buf))
}

/** Decode a frame's plaintext; throws `DecodeError` on malformed input. */
export function decodeMessage(buf: Uint8Array): Message {
  return decodeDataFast(buf) ?? decodeMessageFields(buf)
}

/** The end of the last varint `varint4` read. */
let cursor = 0

/** A varint of at most 4 bytes (below 2^28) at `p`, ending before `end`, its end in `cursor`; else -1. */
function varint4(buf: Uint8Array, p: number, end: number): number {
  let v = 0
  for (let i = 0, scale = 1; i < 4 && p < end; i++, scale *= 0x80) {
    const b = buf[p++]!
    v += (b & 0x7f) * scale
    if (b < 0x80) {
      cursor = p
      return v
    }
  }
  return -1
}

/**
 * The shape every Data message arrives in (prost's encoding of it, and the reference's), decoded
 * without a Reader, tag tuples or BigInt: field 3 alone, holding the channel (field 1, omitted when
 * 0) and then the message (field 2), varints of at most 4 bytes. Undefined for anything else, which
 * `decodeMessage` then decodes field by field (with the same result for this shape).
 */
export function decodeDataFast(buf: Uint8Array): Extract<Message, { type: 'data' }> | undefined {
  const n = buf.length
  if (n < 3 || buf[0] !== 0x1a) return undefined
  const body = varint4(buf, 1, n)
  if (body < 0 || cursor + body !== n) return undefined
  let p = cursor
  let channel = 0
  if (buf[p] === 0x08) {
    channel = varint4(buf, p + 1, n)
    if (channel < 0) return undefined
    p = cursor
  }
  if (p >= n || buf[p] !== 0x12) return undefined
  const len = varint4(buf, p + 1, n)
  if (len < 0 || cursor + len !== n) return undefined
  return { type: 'data', channel, message: buf.subarray(cursor, n) }
}

/** `decodeMessage` for any input: every field, in order, as prost merges them. */
export function decodeMessageFields(buf: Uint8Array): Message {
  const r = new Reader(buf)
  let m: Message = { type: 'none' }
  while (!r.done()) {
    const [field, wire] = r.tag()
    if (field < 1 || field > 3) {
      r.skip(wire, field)
      continue
    }
    const body = nested(r, 'Message.payload', wire)
    if (field === 1) {
      const v: Extract<Message, { type: 'bitVec' }> = m.type === 'bitVec' ? m : { type: 'bitVec', index: 0n, bits: EMPTY }
      while (!body.done()) {
        const [f, t] = body.tag()
        if (f === 1) {
          expectWireType(t, WIRE_VARINT, 'BitVec.index')
          v.index = body.varintBig()
        } else if (f === 2) {
          expectWireType(t, WIRE_BYTES, 'BitVec.bits')
          v.bits = body.bytes()
        } else body.skip(t, f)
      }
      m = v
    } else if (field === 2) {
      const v: Extract<Message, { type: 'peers' }> = m.type === 'peers' ? m : { type: 'peers', peers: [] }
      while (!body.done()) {
        const [f, t] = body.tag()
        if (f === 1) v.peers.push(readPeer(nested(body, 'Peers.peers', t)))
        else body.skip(t, f)
      }
      m = v
    } else {
      const v: Extract<Message, { type: 'data' }> = m.type === 'data' ? m : { type: 'data', channel: 0, message: EMPTY }
      while (!body.done()) {
        const [f, t] = body.tag()
        if (f === 1) {
          expectWireType(t, WIRE_VARINT, 'Data.channel')
          v.channel = body.uint32()
        } else if (f === 2) {
          expectWireType(t, WIRE_BYTES, 'Data.message')
          v.message = body.bytes()
        } else body.skip(t, f)
      }
      m = v
    }
  }
  return m
}

/** Decode, returning the error instead of throwing (for hot receive paths). */
export function tryDecodeMessage(buf: Uint8Array): Message | DecodeError {
  try {
    return decodeMessage(buf)
  } catch (e) {
    if (e instanceof DecodeError) return e
    throw e
  }
}

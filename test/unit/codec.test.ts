import { describe, expect, it } from 'vitest'
import {
  dataOverhead,
  decodeHandshake,
  decodeMessage,
  decodePeer,
  decodeSocket,
  encodeHandshake,
  encodeMessage,
  encodePeer,
  encodeSocket,
  handshakePayload,
  isGlobal,
  peerRecordPayload,
  socketAddress,
  type Message,
} from '../../src/codec/index.js'
import { DecodeError } from '../../src/errors.js'
import { hex, unhex, utf8 } from '../helpers/backends.js'
import { loadVectors } from '../helpers/vectors.js'

describe('worked examples of the protocol spec', () => {
  it.each([
    [{ type: 'bitVec', index: 5n, bits: Uint8Array.of(0x09, 0x02) }, '0a06080512020902'],
    [{ type: 'bitVec', index: 0n, bits: Uint8Array.of(0x01) }, '0a03120101'],
    [{ type: 'bitVec', index: 0n, bits: new Uint8Array(0) }, '0a00'],
    [{ type: 'data', channel: 7, message: utf8('hi') }, '1a0608071202' + '6869'],
    [{ type: 'data', channel: 0, message: utf8('hi') }, '1a0412026869'],
    [{ type: 'data', channel: 300, message: utf8('hi') }, '1a0708ac0212026869'],
    [{ type: 'none' }, ''],
  ] as [Message, string][])('%o encodes as %s and back', (m, bytes) => {
    expect(hex(encodeMessage(m))).toBe(bytes)
    expect(decodeMessage(unhex(bytes))).toEqual(m)
  })

  it('sockets: IPv4 in 6 bytes, IPv6 in 18, port big-endian', () => {
    expect(hex(encodeSocket({ host: '127.0.0.1', port: 3000 }))).toBe('7f0000010bb8')
    expect(hex(encodeSocket({ host: '2001:db8::1', port: 8080 }))).toBe('20010db8' + '00'.repeat(11) + '011f90')
    expect(decodeSocket(unhex('7f0000010bb8'))).toEqual({ host: '127.0.0.1', port: 3000, family: 4 })
    expect(decodeSocket(encodeSocket({ host: '[2001:db8::1]', port: 8080 }))).toEqual({ host: '2001:db8::1', port: 8080, family: 6 })
    const mapped = encodeSocket({ host: '::ffff:1.2.3.4', port: 1 })
    expect(mapped.length).toBe(18)
    expect(decodeSocket(mapped)).toEqual({ host: '::ffff:102:304', port: 1, family: 6 })
  })

  it.each([0, 5, 7, 17, 19])('a socket of %i bytes is refused as InvalidIPLength', (len) => {
    expect(() => decodeSocket(new Uint8Array(len))).toThrow(DecodeError)
    expect(() => decodeSocket(new Uint8Array(len))).toThrow(/InvalidIPLength/)
  })

  it('the Ed25519 handshake layout is 177 bytes for a 6-byte timestamp varint', () => {
    const h = { recipientPublicKey: new Uint8Array(32).fill(1), ephemeralPublicKey: new Uint8Array(32).fill(2), timestamp: 1733600000000n, signature: { publicKey: new Uint8Array(32).fill(3), signature: new Uint8Array(64).fill(4) } }
    const bytes = encodeHandshake(h)
    expect(bytes.length).toBe(177)
    expect(hex(bytes.subarray(0, 2))).toBe('0a20')
    expect(hex(bytes.subarray(34, 36))).toBe('1220')
    expect(bytes[68]).toBe(0x18)
    expect(hex(bytes.subarray(75, 79))).toBe('22640a20')
    expect(decodeHandshake(bytes)).toEqual(h)
    expect(encodeHandshake({ ...h, timestamp: 0n }).length).toBe(170)
  })

  it('the Data envelope adds at most 18 bytes', () => {
    for (const [ch, len] of [[0, 0], [0, 1], [7, 100], [300, 1 << 20], [0xffff_ffff, 0xffff_ffff]] as const) {
      const o = dataOverhead(ch, len)
      expect(o).toBeLessThanOrEqual(18)
      if (len < 1 << 21) expect(o).toBe(encodeMessage({ type: 'data', channel: ch, message: new Uint8Array(len) }).length - len)
    }
  })
})

describe('decoding like prost', () => {
  it('skips unknown fields of every wire type, and a Message with only unknown fields is none', () => {
    expect(decodeMessage(unhex('220568656c6c6f'))).toEqual({ type: 'none' })
    // field 5 varint, field 6 fixed64, field 7 fixed32, field 8 group containing a varint, then Data
    const mixed = '2801' + '310102030405060708' + '3d01020304' + '43' + '0801' + '44' + '1a0412026869'
    expect(decodeMessage(unhex(mixed))).toEqual({ type: 'data', channel: 0, message: utf8('hi') })
  })

  it('keeps the last scalar and merges a repeated sub-message', () => {
    expect(decodeMessage(unhex('1a0408010802' + '1a020803'))).toMatchObject({ type: 'data', channel: 3 })
    const twoSigs = decodeHandshake(unhex('22030a0101' + '2203120102'))
    expect(twoSigs.signature).toEqual({ publicKey: Uint8Array.of(1), signature: Uint8Array.of(2) })
  })

  it('truncates a uint32 channel to 32 bits', () => {
    expect(decodeMessage(unhex('1a09088780808010120168'))).toEqual({ type: 'data', channel: 7, message: utf8('h') })
  })

  it.each([
    ['1a', 'a truncated length'],
    ['1a05', 'a length past the end'],
    ['08ffffffffffffffffffff01', 'an 11-byte varint'],
    ['1a020a00', 'a wire-type mismatch (Data.channel as bytes)'],
    ['0b', 'an unterminated group'],
    ['0f', 'wire type 7'],
    ['00', 'field number 0'],
  ])('%s (%s) is a DecodeError', (bytes) => {
    expect(() => decodeMessage(unhex(bytes))).toThrow(DecodeError)
  })

  it('decoded bytes are views into the input (no copy)', () => {
    const buf = unhex('1a0412026869')
    const m = decodeMessage(buf)
    expect(m.type === 'data' && m.message.buffer).toBe(buf.buffer)
  })
})

describe('signed payloads', () => {
  it('handshake payload: recipient || ephemeral || ts u64 BE', () => {
    expect(hex(handshakePayload(Uint8Array.of(1), Uint8Array.of(2), 258n))).toBe('01020000000000000102')
  })
  it('peer record payload: socket || ts u64 BE', () => {
    expect(hex(peerRecordPayload(Uint8Array.of(9, 9), 1n))).toBe('09090000000000000001')
  })
})

describe('isGlobal (the reference ip.rs rules)', () => {
  const v = (h: string) => socketAddress(h, 1)
  it.each([
    '8.8.8.8', '1.1.1.1', '123.45.67.89', '192.0.0.9', '192.0.0.10', '100.128.0.1',
    '2001:4860:4860::8888', '2606:4700:4700::1111', '2005:1db8:85a3::8a2e:370:7334', '2001:200::1',
    '2001:1::1', '2001:1::2', '2001:3::1', '2001:4:112::1', '2001:20::1', '2001:3f::1', 'ff02::1',
  ])('%s is global', (h) => expect(isGlobal(v(h))).toBe(true))
  it.each([
    '0.1.2.3', '10.0.0.1', '192.168.1.1', '172.16.0.1', '172.31.255.254', '100.64.0.1', '100.127.255.254',
    '127.0.0.1', '127.255.255.254', '169.254.0.1', '169.254.255.254', '192.0.0.1', '192.0.0.254',
    '192.0.2.1', '198.51.100.1', '203.0.113.1', '198.18.0.1', '198.19.255.254', '240.0.0.1',
    '254.255.255.254', '255.255.255.255',
    '::', '::1', '::ffff:192.0.2.128', '64:ff9b:1::1', '100::1', '2001::1', '2001:1ff::1', '2001:1::3',
    '2002::1', '2001:db8::1', 'fc00::1', 'fdff::1', 'fe80::1', 'febf::1',
  ])('%s is not global', (h) => expect(isGlobal(v(h))).toBe(false))
})

describe('Rust vectors', () => {
  const pb = loadVectors<{ cases: { kind: string; encoded: string; n?: number; index?: string; bits?: string; channel?: number; message?: string; decode_only?: boolean }[] }>('protobuf.json')
  it('protobuf: every encoding, both ways', () => {
    for (const c of pb.cases) {
      const bytes = unhex(c.encoded)
      if (c.kind === 'invalid') {
        expect(() => decodeMessage(bytes), c.encoded).toThrow(DecodeError)
        continue
      }
      const m: Message =
        c.kind === 'bit_vec' ? { type: 'bitVec', index: BigInt(c.index!), bits: unhex(c.bits!) }
        : c.kind === 'data' ? { type: 'data', channel: c.channel!, message: unhex(c.message!) }
        : { type: 'none' }
      expect(decodeMessage(bytes)).toEqual(m)
      if (!c.decode_only && c.kind !== 'none') expect(hex(encodeMessage(m))).toBe(c.encoded)
    }
  })

  const hs = loadVectors<{ cases: { recipient_public: string; ephemeral_public: string; timestamp: string; sender_public: string; signature: string; payload: string; encoded: string }[] }>('handshake.json')
  it('handshakes: payload and encoding', () => {
    for (const c of hs.cases) {
      const h = { recipientPublicKey: unhex(c.recipient_public), ephemeralPublicKey: unhex(c.ephemeral_public), timestamp: BigInt(c.timestamp), signature: { publicKey: unhex(c.sender_public), signature: unhex(c.signature) } }
      expect(hex(handshakePayload(h.recipientPublicKey, h.ephemeralPublicKey, h.timestamp))).toBe(c.payload)
      expect(hex(encodeHandshake(h))).toBe(c.encoded)
      expect(decodeHandshake(unhex(c.encoded))).toEqual(h)
    }
  })

  const pr = loadVectors<{ cases: { address: string; timestamp: string; signer_public: string; socket: string; signature: string; encoded_peer: string }[]; messages: { records: number; timestamp: string; encoded: string }[] }>('peer_record.json')
  it('peer records: sockets, Peer and Message{Peers} encodings', () => {
    for (const c of pr.cases) {
      const m = /^\[?(.*?)\]?:(\d+)$/.exec(c.address)!
      expect(hex(encodeSocket({ host: m[1]!, port: Number(m[2]) }))).toBe(c.socket)
      const peer = { socket: unhex(c.socket), timestamp: BigInt(c.timestamp), signature: { publicKey: unhex(c.signer_public), signature: unhex(c.signature) } }
      expect(hex(encodePeer(peer))).toBe(c.encoded_peer)
      expect(decodePeer(unhex(c.encoded_peer))).toEqual(peer)
    }
    for (const msg of pr.messages) {
      const peers = pr.cases.filter((c) => c.timestamp === msg.timestamp).slice(0, msg.records).map((c) => decodePeer(unhex(c.encoded_peer)))
      expect(hex(encodeMessage({ type: 'peers', peers }))).toBe(msg.encoded)
      expect(decodeMessage(unhex(msg.encoded))).toEqual({ type: 'peers', peers })
    }
    expect(unhex(pr.messages[0]!.encoded).length).toBe(121)
  })
})

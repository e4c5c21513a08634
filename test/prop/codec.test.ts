import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeDataFast, decodeHandshake, decodeMessage, decodeMessageFields, decodeSocket, encodeData, encodeDataParts, encodeHandshake, encodeMessage, encodeSocket, type Message } from '../../src/codec/index.js'
import { DecodeError } from '../../src/errors.js'
import { FC_SEED } from '../helpers/backends.js'

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
const bytes = (max = 64) => fc.uint8Array({ maxLength: max })
const sig = fc.record({ publicKey: bytes(), signature: bytes() })
const peer = fc.record({ socket: bytes(18), timestamp: u64, signature: fc.option(sig, { nil: undefined }) }, { requiredKeys: ['socket', 'timestamp'] })
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('bitVec' as const), index: u64, bits: bytes() }),
  fc.record({ type: fc.constant('peers' as const), peers: fc.array(peer, { maxLength: 4 }) }),
  fc.record({ type: fc.constant('data' as const), channel: fc.nat({ max: 0xffff_ffff }), message: bytes(300) }),
  fc.constant({ type: 'none' as const }),
)
const strip = <T>(v: T): T => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Array.from(x) : x)))

describe('codec properties', () => {
  it('every message round-trips', () => {
    fc.assert(fc.property(message, (m) => {
      expect(strip(decodeMessage(encodeMessage(m)))).toEqual(strip(m))
    }), { seed: FC_SEED, numRuns: 500 })
  })

  it('encodeData is byte for byte encodeMessage of a Data message', () => {
    fc.assert(fc.property(fc.nat({ max: 0xffff_ffff }), bytes(400), (channel, message) => {
      expect(Buffer.from(encodeData(channel, message))).toEqual(Buffer.from(encodeMessage({ type: 'data', channel, message })))
    }), { seed: FC_SEED, numRuns: 500 })
  })

  it('encodeDataParts is encodeData in two parts, the second the payload itself', () => {
    fc.assert(fc.property(fc.nat({ max: 0xffff_ffff }), fc.integer({ min: 1, max: 70_000 }), (channel, n) => {
      const message = new Uint8Array(n).fill(n & 255)
      const d = encodeDataParts(channel, message)
      expect(d.parts[1]).toBe(message)
      expect(d.length).toBe(d.parts[0].length + n)
      expect(Buffer.concat(d.parts)).toEqual(Buffer.from(encodeData(channel, message)))
    }), { seed: FC_SEED, numRuns: 300 })
  })

  it('every handshake round-trips', () => {
    fc.assert(fc.property(bytes(), bytes(), u64, fc.option(sig, { nil: undefined }), (r, e, t, s) => {
      const h = { recipientPublicKey: r, ephemeralPublicKey: e, timestamp: t, ...(s ? { signature: s } : {}) }
      expect(strip(decodeHandshake(encodeHandshake(h)))).toEqual(strip(h))
    }), { seed: FC_SEED, numRuns: 300 })
  })

  it('the Data fast path decodes as the field-by-field decoder, or leaves the input to it', () => {
    // Valid Data encodings, then the same with one byte changed, cut, or extended: every input the fast
    // path takes must give the general decoder's result; those it leaves must still decode as before.
    const data = fc.record({ channel: fc.oneof(fc.nat({ max: 300 }), fc.nat({ max: 0xffff_ffff })), message: bytes(300) })
    const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('none', 'set', 'cut', 'grow'))
    fc.assert(
      fc.property(data, edit, ({ channel, message }, [at, v, how]) => {
        let b = encodeData(channel, message)
        if (how === 'set') (b = b.slice())[at % b.length] = v
        else if (how === 'cut') b = b.subarray(0, at % b.length)
        else if (how === 'grow') b = Uint8Array.from([...b, v])
        const fast = decodeDataFast(b)
        // What the encoder writes for a channel below 2^28 and a message (an empty one is omitted).
        if (how === 'none' && channel < 2 ** 28 && message.length > 0) expect(fast).toBeDefined()
        let general: Message | DecodeError
        try {
          general = decodeMessageFields(b)
        } catch (e) {
          general = e as DecodeError
        }
        if (fast === undefined) return
        expect(fast).toEqual(general)
        expect(decodeMessage(b)).toEqual(general)
      }),
      { seed: FC_SEED, numRuns: 3000 },
    )
  })

  it('arbitrary bytes decode or fail with a DecodeError, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      for (const decode of [decodeMessage, decodeHandshake, decodeSocket]) {
        try {
          decode(b)
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError)
        }
      }
    }), { seed: FC_SEED, numRuns: 3000 })
  })

  it('sockets round-trip for any IPv4 and IPv6 address', () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'))
    const v6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(':'))
    fc.assert(fc.property(fc.oneof(v4, v6), fc.nat(0xffff), (host, port) => {
      const enc = encodeSocket({ host, port })
      expect(encodeSocket(decodeSocket(enc))).toEqual(enc)
    }), { seed: FC_SEED, numRuns: 500 })
  })
})

import { describe, expect, it } from 'vitest'
import { Bls12381, Ed25519, unionUnique } from '../../src/crypto/index.js'
import { hex, utf8 } from '../helpers/backends.js'

describe('unionUnique', () => {
  it.each([
    [0, '00'],
    [9, '09'],
    [127, '7f'],
    [128, '8001'],
    [256, '8002'],
    [16384, '808001'],
  ])('a namespace of %i bytes gets the prefix %s', (len, prefix) => {
    const out = unionUnique(new Uint8Array(len).fill(0x61), utf8('m'))
    expect(hex(out.subarray(0, prefix.length / 2))).toBe(prefix)
    expect(out.length).toBe(prefix.length / 2 + len + 1)
    expect(out[out.length - 1]).toBe(0x6d)
  })
})

describe.each([
  ['Ed25519', Ed25519, 32, 64],
  ['Bls12381', Bls12381, 48, 96],
] as const)('%s', (_name, Scheme, pkLen, sigLen) => {
  const ns = utf8('quorumnet-test')
  const msg = utf8('hello')
  it('is deterministic from a seed and distinct across seeds', () => {
    expect(hex(Scheme.fromSeed(1).publicKey)).toBe(hex(Scheme.fromSeed(1n).publicKey))
    expect(hex(Scheme.fromSeed(1).publicKey)).not.toBe(hex(Scheme.fromSeed(2).publicKey))
    expect(Scheme.fromSeed(1).publicKey.length).toBe(pkLen)
  })
  it('round-trips its private key', () => {
    const a = Scheme.fromSeed(3)
    expect(hex(Scheme.fromPrivateKey(a.privateKey()).publicKey)).toBe(hex(a.publicKey))
  })
  it('signs and verifies under the namespace, and nothing else verifies', () => {
    const a = Scheme.fromSeed(4)
    const sig = a.sign(ns, msg)
    expect(sig.length).toBe(sigLen)
    expect(Scheme.verify(ns, msg, a.publicKey, sig)).toBe(true)
    expect(Scheme.verify(utf8('other'), msg, a.publicKey, sig)).toBe(false)
    expect(Scheme.verify(ns, utf8('hellO'), a.publicKey, sig)).toBe(false)
    expect(Scheme.verify(ns, msg, Scheme.fromSeed(5).publicKey, sig)).toBe(false)
    expect(Scheme.verify(ns, msg, a.publicKey, sig.subarray(1))).toBe(false)
  })
  it('moving bytes between namespace and message changes the signed bytes', () => {
    const a = Scheme.fromSeed(6)
    const sig = a.sign(utf8('ab'), utf8('c'))
    expect(Scheme.verify(utf8('a'), utf8('bc'), a.publicKey, sig)).toBe(false)
  })
  it('validates its own public keys and refuses malformed ones', () => {
    expect(Scheme.validate(Scheme.fromSeed(7).publicKey)).toBe(true)
    expect(Scheme.validate(new Uint8Array(pkLen - 1))).toBe(false)
  })
  it('verifies batches item by item', () => {
    const a = Scheme.fromSeed(8)
    const good = { namespace: ns, msg, publicKey: a.publicKey, sig: a.sign(ns, msg) }
    const bad = { ...good, msg: utf8('x') }
    expect(Scheme.scheme.verifyBatch([good, bad, good])).toEqual([true, false, true])
  })
  it('refuses a private key of the wrong length', () => {
    expect(() => Scheme.fromPrivateKey(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

describe('Bls12381 key generation', () => {
  it('generates from 64 bytes of caller randomness, deterministically', () => {
    const rng = (n: number) => new Uint8Array(n).fill(9)
    expect(hex(Bls12381.generate(rng).publicKey)).toBe(hex(Bls12381.generate(rng).publicKey))
  })
})

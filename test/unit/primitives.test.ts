/**
 * zstd, X25519, bit vectors and GCRA tables in every backend: known answers and hostile input.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FC_SEED, backends, hex, unhex, thrown } from '../helpers/backends.js'
import { isP2pError } from '../../src/errors.js'


describe.each(backends)('primitives [$name]', ({ b }) => {
  it('X25519: the RFC 7748 known answer, and both sides agree', () => {
    const alice = unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
    const bob = unhex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')
    expect(hex(b.x25519PublicKey(alice))).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')
    expect(hex(b.x25519SharedSecret(alice, b.x25519PublicKey(bob))!)).toBe('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742')
    expect(isP2pError(thrown(() => b.x25519PublicKey(new Uint8Array(31))), 'ERR_INVALID_ARGUMENT')).toBe(true)
  })

  it('zstd: a decompression bomb is refused at the cap, garbage is refused, levels are checked', () => {
    const bomb = b.zstdCompress(new Uint8Array(64 << 20), 19)
    expect(bomb.length).toBeLessThan(8192)
    expect(b.zstdDecompress(bomb, 1 << 20)).toBeNull()
    expect(b.zstdDecompress(bomb, 64 << 20)?.length).toBe(64 << 20)
    expect(b.zstdDecompress(Uint8Array.of(1, 2, 3, 4, 5), 100)).toBeNull()
    expect(b.zstdDecompress(new Uint8Array(0), 100)).toBeNull()
    expect(isP2pError(thrown(() => b.zstdCompress(Uint8Array.of(1), 1000)), 'ERR_COMPRESS')).toBe(true)
    expect(hex(b.zstdDecompress(b.zstdCompress(Uint8Array.of(1, 2), 0), 2)!)).toBe('0102')
  })

  it('zstd: any data round-trips at any level, and the cap is exact', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 19 }), (data, level) => {
      const packed = b.zstdCompress(data, level)
      expect(hex(b.zstdDecompress(packed, data.length)!)).toBe(hex(data))
      if (data.length > 0) expect(b.zstdDecompress(packed, data.length - 1)).toBeNull()
    }), { seed: FC_SEED, numRuns: 100 })
  })

  it('bit vectors: lacking() and extra bits in Lsb0 order', () => {
    expect(Array.from(b.bitvecLacking(Uint8Array.of(0x09, 0x02), Uint8Array.of(0x01), 10))).toEqual([3, 9])
    expect(Array.from(b.bitvecLacking(Uint8Array.of(0xff), Uint8Array.of(0), 5))).toEqual([0, 1, 2, 3, 4])
    expect(b.bitvecHasExtraBits(Uint8Array.of(0x20), 5)).toBe(true)
    expect(b.bitvecHasExtraBits(Uint8Array.of(0x1f, 0), 5)).toBe(false)
  })

  it('GCRA: per_second(2) allows two at once, then waits 500 ms; classes without quota are refused', () => {
    const t = new b.QuotaTable()
    t.setQuota(3, 500_000_000, 2)
    expect([t.check(1, 3, 0), t.check(1, 3, 0), t.check(1, 3, 0)]).toEqual([0, 0, 500_000_000])
    expect(t.check(1, 3, 500_000_000)).toBe(0)
    expect(isP2pError(thrown(() => t.check(1, 4, 0)), 'ERR_INVALID_ARGUMENT')).toBe(true)
    t.removeKey(1)
    expect(t.size()).toBe(0)
  })
})

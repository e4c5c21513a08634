import { alloc } from '../../src/utils/slab.js'
import { describe, expect, it } from 'vitest'
import { BitVec, Quota, RateLimiter } from '../../src/utils/index.js'
import { isP2pError } from '../../src/errors.js'

describe('Quota', () => {
  it('has the reference (governor) rounding', () => {
    expect(Quota.perSecond(3).periodNs).toBe(333_333_333)
    expect(Quota.perSecond(3).burst).toBe(3)
    expect(Quota.perMinute(1).periodNs).toBe(60_000_000_000)
    expect(Quota.perMinute(30).periodNs).toBe(2_000_000_000)
    expect(Quota.withPeriod(250).allowBurst(4)).toMatchObject({ periodNs: 250_000_000, burst: 4 })
  })
  it.each([0, -1, 1.5, Number.NaN])('refuses a count of %s with a typed error', (n) => {
    expect(() => Quota.perSecond(n)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

describe('RateLimiter', () => {
  it('allows a burst, then says how long to wait, then refills one cell per period', () => {
    const rl = new RateLimiter()
    rl.define(0, Quota.perSecond(2))
    expect(rl.check(1, 0, 0)).toBe(0)
    expect(rl.check(1, 0, 0)).toBe(0)
    const wait = rl.check(1, 0, 0)
    expect(wait).toBeGreaterThan(0)
    expect(wait).toBeLessThanOrEqual(500)
    expect(rl.check(1, 0, wait)).toBe(0)
    expect(rl.check(1, 0, wait)).toBeGreaterThan(0)
  })
  it('keeps keys and classes apart, and forgets a removed key', () => {
    const rl = new RateLimiter()
    rl.define(0, Quota.perMinute(1))
    rl.define(1, Quota.perMinute(1))
    expect(rl.check(1, 0, 0)).toBe(0)
    expect(rl.check(1, 0, 0)).toBeGreaterThan(0)
    expect(rl.check(2, 0, 0)).toBe(0)
    expect(rl.check(1, 1, 0)).toBe(0)
    expect(rl.size).toBe(3)
    rl.remove(1)
    expect(rl.size).toBe(1)
    expect(rl.check(1, 0, 0)).toBe(0)
  })
  it('refuses a class with no quota', () => {
    const rl = new RateLimiter()
    let err: unknown
    try {
      rl.check(1, 9, 0)
    } catch (e) {
      err = e
    }
    expect(isP2pError(err, 'ERR_INVALID_ARGUMENT')).toBe(true)
  })
})

describe('BitVec', () => {
  it('uses the reference bit order (Lsb0 within each byte)', () => {
    const v = new BitVec(10)
    for (const i of [0, 3, 9]) v.set(i)
    expect(Array.from(v.bytes)).toEqual([0x09, 0x02])
    expect([0, 1, 3, 9].map((i) => v.get(i))).toEqual([true, false, true, true])
    expect(v.count()).toBe(3)
  })
  it.each([
    [7, 1],
    [8, 2],
    [9, 2],
    [16, 3],
    [0, 1],
  ])('a %i-peer vector goes out as %i bytes (what 0.0.25 nodes accept)', (n, len) => {
    expect(new BitVec(n).toWire().length).toBe(len)
  })
  it('accepts both the canonical and the padded length, and nothing else', () => {
    expect(BitVec.fromWire(8, new Uint8Array([0xff]))?.count()).toBe(8)
    expect(BitVec.fromWire(8, new Uint8Array([0xff, 0]))?.count()).toBe(8)
    expect(BitVec.fromWire(8, new Uint8Array([0xff, 0, 0]))).toBeUndefined()
    expect(BitVec.fromWire(8, new Uint8Array([]))).toBeUndefined()
  })
  it('refuses bits set past the set size', () => {
    expect(BitVec.fromWire(7, new Uint8Array([0x80]))).toBeUndefined()
    expect(BitVec.fromWire(8, new Uint8Array([0x00, 0x01]))).toBeUndefined()
    expect(BitVec.fromWire(7, new Uint8Array([0x7f]))?.count()).toBe(7)
  })
  it('lacking() lists what we have and they do not', () => {
    const mine = new BitVec(12)
    const theirs = new BitVec(12)
    for (const i of [1, 4, 8, 11]) mine.set(i)
    for (const i of [4, 5, 11]) theirs.set(i)
    expect(Array.from(mine.lacking(theirs))).toEqual([1, 8])
  })
  it('refuses to set a bit outside the vector', () => {
    expect(() => new BitVec(4).set(4)).toThrow(RangeError)
  })
})

describe('slab alloc', () => {
  it('hands out small arrays that never overlap, across slabs, and large ones of their own', () => {
    const views = Array.from({ length: 2_000 }, (_, i) => {
      const v = alloc(1 + (i % 200))
      v.fill(i & 255)
      return v
    })
    // Every view still holds what was written into it: no later view overlapped it.
    views.forEach((v, i) => expect(v.every((b) => b === (i & 255))).toBe(true))
    expect(new Set(views.map((v) => v.buffer)).size).toBeGreaterThan(1) // 2,000 x ~100 B spans slabs
    const big = alloc(4_096)
    expect(big.byteOffset).toBe(0)
    expect(big.buffer.byteLength).toBe(4_096)
  })
})

/**
 * Cross-backend equality: the addon and the fallback give the same bytes for the same inputs.
 * Runs when the addon is loaded (always under P2P_NATIVE=1; CI fails if it is missing there).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FC_SEED, hex, js, native, pack } from '../helpers/backends.js'

const KEY = new Uint8Array(32).map((_, i) => i * 7 + 1)
const arbFrames = fc.array(fc.uint8Array({ minLength: 0, maxLength: 2048 }), { minLength: 1, maxLength: 16 })


// Without the addon there is nothing to compare; P2P_NATIVE=1 (CI) guarantees it is present.
describe.skipIf(!native)('native and fallback agree', () => {
  const n = native!
  it('seal gives identical frames for any batch, for both roles, and each opens the other', () => {
    fc.assert(
      fc.property(arbFrames, fc.boolean(), (frames, dialer) => {
        const { plain, lens } = pack(frames)
        const a = new n.SendCipher(KEY, dialer, 4096)
        const b = new js.SendCipher(KEY, dialer, 4096)
        const sealedN = a.sealFrames(plain, lens)
        const sealedJ = b.sealFrames(plain, lens)
        expect(hex(sealedN)).toBe(hex(sealedJ))
        const openedJ = new js.RecvCipher(KEY, !dialer, 4096).openFrames(Uint8Array.from(sealedN))
        const openedN = new n.RecvCipher(KEY, !dialer, 4096).openFrames(Uint8Array.from(sealedJ))
        expect(openedJ.error).toBeNull()
        expect(openedN.error).toBeNull()
        expect(hex(openedJ.plain)).toBe(hex(plain))
        expect(Array.from(openedN.lens)).toEqual(Array.from(lens))
        expect(openedN.consumed).toBe(sealedJ.length)
      }),
      { seed: FC_SEED, numRuns: 100 },
    )
  })

  it('open reports the same consumed count and error for truncated and tampered chunks', () => {
    fc.assert(
      fc.property(arbFrames, fc.nat(), fc.nat(), (frames, cutAt, flipAt) => {
        const { plain, lens } = pack(frames)
        const sealed = new js.SendCipher(KEY, true, 4096).sealFrames(plain, lens)
        const cut = sealed.subarray(0, cutAt % (sealed.length + 1))
        const tampered = Uint8Array.from(sealed)
        tampered[flipAt % tampered.length]! ^= 0x01
        for (const chunk of [cut, tampered]) {
          // Opening decrypts in place, so each backend gets its own copy.
          const r1 = new n.RecvCipher(KEY, false, 4096).openFrames(Uint8Array.from(chunk))
          const r2 = new js.RecvCipher(KEY, false, 4096).openFrames(Uint8Array.from(chunk))
          expect(r1.consumed).toBe(r2.consumed)
          expect(r1.error).toBe(r2.error)
          expect(Array.from(r1.lens)).toEqual(Array.from(r2.lens))
          expect(hex(r1.plain)).toBe(hex(r2.plain))
        }
      }),
      { seed: FC_SEED, numRuns: 200 },
    )
  })

  it('Ed25519 keys from seeds, signatures and verification agree', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 }), (seed, ns, msg) => {
        const sk = n.ed25519FromSeed(seed)
        expect(hex(sk)).toBe(hex(js.ed25519FromSeed(seed)))
        const pk = n.ed25519PublicKey(sk)
        expect(hex(pk)).toBe(hex(js.ed25519PublicKey(sk)))
        const sig = n.ed25519Sign(sk, ns, msg)
        expect(hex(sig)).toBe(hex(js.ed25519Sign(sk, ns, msg)))
        expect(js.ed25519Verify(ns, msg, pk, sig)).toBe(true)
        const bad = Uint8Array.from(sig)
        bad[0]! ^= 1
        expect(n.ed25519Verify(ns, msg, pk, bad)).toBe(js.ed25519Verify(ns, msg, pk, bad))
      }),
      { seed: FC_SEED, numRuns: 50 },
    )
  })

  it('BLS12-381 keys from seeds and signatures agree', () => {
    for (const seed of [0n, 1n, 2n, 123456789n]) {
      const sk = n.blsFromSeed(seed)
      expect(hex(sk)).toBe(hex(js.blsFromSeed(seed)))
      const pk = n.blsPublicKey(sk)
      expect(hex(pk)).toBe(hex(js.blsPublicKey(sk)))
      const ns = new TextEncoder().encode('ns')
      const sig = n.blsSign(sk, ns, pk)
      expect(hex(sig)).toBe(hex(js.blsSign(sk, ns, pk)))
      expect(js.blsVerify(ns, pk, pk, sig)).toBe(true)
    }
  })

  it('X25519 public keys and shared secrets agree', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (a, b) => {
        const pa = n.x25519PublicKey(a)
        expect(hex(pa)).toBe(hex(js.x25519PublicKey(a)))
        const s1 = n.x25519SharedSecret(b, pa)
        const s2 = js.x25519SharedSecret(b, pa)
        expect(s2 && hex(s2)).toBe(hex(s1!))
      }),
      { seed: FC_SEED, numRuns: 100 },
    )
  })

  it('zstd: each decompresses the other, with the same cap decisions', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 19 }), fc.integer({ min: -2, max: 2 }), (data, level, slack) => {
        const cap = Math.max(0, data.length + slack)
        const fits = data.length <= cap
        for (const [c, d] of [[n, js], [js, n]] as const) {
          const out = d.zstdDecompress(c.zstdCompress(data, level), cap)
          expect(out === null ? null : hex(out)).toBe(fits ? hex(data) : null)
        }
      }),
      { seed: FC_SEED, numRuns: 100 },
    )
  })

  it('bit vectors: lacking() and extra-bit checks agree', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (len, a, b) => {
        const nbits = Math.min(len, a.length * 8, b.length * 8)
        expect(Array.from(n.bitvecLacking(a, b, nbits))).toEqual(Array.from(js.bitvecLacking(a, b, nbits)))
        expect(n.bitvecHasExtraBits(a, nbits)).toBe(js.bitvecHasExtraBits(a, nbits))
      }),
      { seed: FC_SEED, numRuns: 300 },
    )
  })

  it('GCRA tables give the same decisions and waits over random schedules', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 2_000_000_000 }), key: fc.integer({ min: 0, max: 3 }), cls: fc.integer({ min: 0, max: 1 }) }), { maxLength: 200 }),
        (steps) => {
          const a = new n.QuotaTable()
          const b = new js.QuotaTable()
          for (const t of [a, b]) {
            t.setQuota(0, 500_000_000, 2)
            t.setQuota(1, 60_000_000_000, 1)
          }
          let now = 0
          for (const s of steps) {
            now += s.dt
            expect(a.check(s.key, s.cls, now)).toBe(b.check(s.key, s.cls, now))
          }
          expect(a.size()).toBe(b.size())
        },
      ),
      { seed: FC_SEED, numRuns: 100 },
    )
  })
})

describe.skipIf(!native)('native and fallback agree over long runs', () => {
  it('the counters stay in step across thousands of frames in many batches', () => {
    const n = native!
    const txN = new n.SendCipher(KEY, true, 64)
    const txJ = new js.SendCipher(KEY, true, 64)
    const rxN = new n.RecvCipher(KEY, false, 64)
    for (let round = 0; round < 100; round++) {
      const batch = 1 + ((round * 37) % 64)
      const plain = new Uint8Array(batch * 3).fill(round)
      const lens = new Uint32Array(batch).fill(3)
      const a = txN.sealFrames(plain, lens)
      expect(hex(txJ.sealFrames(plain, lens))).toBe(hex(a))
      expect(rxN.openFrames(a).lens.length).toBe(batch)
    }
  })
})

describe.skipIf(!native)("the addon's own seal and open paths agree with the fallback", () => {
  it('sealInPlace, sealFramesAsync and openFramesAsync give the bytes of sealFrames and openFrames, in call order', async () => {
    const n = native!
    const batches = fc.sample(arbFrames, { seed: FC_SEED, numRuns: 40 })
    const txN = new n.SendCipher(KEY, false, 4096)
    const txJ = new js.SendCipher(KEY, false, 4096)
    const rxN = new n.RecvCipher(KEY, true, 4096)
    const rxJ = new js.RecvCipher(KEY, true, 4096)
    // Round-robin over the three ways to seal; the async ones are all started before any settles.
    const sealed: Promise<Uint8Array>[] = batches.map((frames, i) => {
      const { plain, lens } = pack(frames)
      const out = new Uint8Array(plain.length + 20 * lens.length)
      if (i % 3 === 0) return Promise.resolve(txN.sealFrames(plain, lens))
      if (i % 3 === 1) {
        let off = 0
        for (const f of frames) {
          out.set(f, off + 4)
          off += f.length + 20
        }
        txN.sealInPlace!(out, lens)
        return Promise.resolve(out)
      }
      return txN.sealFramesAsync!(frames, out).then(() => out)
    })
    const all = await Promise.all(sealed)
    batches.forEach((frames, i) => {
      const { plain, lens } = pack(frames)
      expect(hex(all[i]!)).toBe(hex(txJ.sealFrames(plain, lens)))
    })
    for (let i = 0; i < all.length; i++) {
      const want = rxJ.openFrames(Uint8Array.from(all[i]!))
      const got = i % 2 === 0 ? await rxN.openFramesAsync!(Uint8Array.from(all[i]!)) : rxN.openFrames(Uint8Array.from(all[i]!))
      expect([hex(got.plain), Array.from(got.lens), got.consumed, got.error]).toEqual([hex(want.plain), Array.from(want.lens), want.consumed, want.error])
    }
  })

  it('openFramesAsync reports a partial frame, a bad tag and a bad prefix as openFrames does, and a refusal sticks', async () => {
    const n = native!
    const frames = [Uint8Array.of(1, 2, 3), Uint8Array.of(4), new Uint8Array(100)]
    const { plain, lens } = pack(frames)
    const sealed = new js.SendCipher(KEY, true, 4096).sealFrames(plain, lens)
    const variants = [sealed.subarray(0, sealed.length - 1), Uint8Array.from(sealed).map((b, i) => (i === 30 ? b ^ 1 : b)), Uint8Array.of(0, 0, 0, 0), Uint8Array.of(0, 0, 0x20, 0)]
    for (const v of variants) {
      const want = new js.RecvCipher(KEY, false, 4096).openFrames(Uint8Array.from(v))
      const rx = new n.RecvCipher(KEY, false, 4096)
      const got = await rx.openFramesAsync!(Uint8Array.from(v))
      expect([hex(got.plain), Array.from(got.lens), got.consumed, got.error]).toEqual([hex(want.plain), Array.from(want.lens), want.consumed, want.error])
      if (got.error) expect(rx.openFrames(Uint8Array.from(sealed)).error).toBe(got.error)
    }
  })

  it('a refused async batch throws at the call and takes no nonce', () => {
    const n = native!
    const tx = new n.SendCipher(KEY, true, 8)
    expect(() => tx.sealFramesAsync!([new Uint8Array(9)], new Uint8Array(29))).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }))
    expect(() => tx.sealFramesAsync!([new Uint8Array(2)], new Uint8Array(21))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    const first = tx.sealFrames(Uint8Array.of(5), Uint32Array.of(1))
    expect(hex(first)).toBe(hex(new js.SendCipher(KEY, true, 8).sealFrames(Uint8Array.of(5), Uint32Array.of(1))))
  })
})

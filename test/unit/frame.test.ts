/**
 * Frame sealing and opening, in every backend: the behaviour a connection relies on.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FC_SEED, backends, hex, pack, thrown } from '../helpers/backends.js'
import { isP2pError } from '../../src/errors.js'

const KEY = new Uint8Array(32).fill(42)
const counter = (iter: number, seq: bigint): Uint8Array => {
  const c = new Uint8Array(10)
  new DataView(c.buffer).setUint16(0, iter)
  new DataView(c.buffer).setBigUint64(2, seq)
  return c
}

describe.each(backends)('frames [$name]', ({ b }) => {
  it('opens in place: the plaintexts are packed at the start of the chunk, the rest untouched', () => {
    const sealed = new b.SendCipher(KEY, true, 10).sealFrames(Uint8Array.of(1, 2, 3, 4), Uint32Array.of(2, 2))
    const chunk = new Uint8Array([...sealed, 0, 0, 0, 9, 7])
    const r = new b.RecvCipher(KEY, false, 10).openFrames(chunk)
    expect(Array.from(r.plain)).toEqual([1, 2, 3, 4])
    expect(r.plain.buffer).toBe(chunk.buffer)
    expect(Array.from(chunk.subarray(r.consumed))).toEqual([0, 0, 0, 9, 7])
  })

  it('round-trips any batch, delivered in any split of chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 5 }), (frames, cuts) => {
        const { plain, lens } = pack(frames)
        const sealed = new b.SendCipher(KEY, true, 300).sealFrames(plain, lens)
        expect(sealed.length).toBe(plain.length + frames.length * 20)
        const rx = new b.RecvCipher(KEY, false, 300)
        const points = [...new Set(cuts.map((c) => c % (sealed.length + 1)))].sort((x, y) => x - y)
        let pending = new Uint8Array(0)
        const got: number[] = []
        let out = ''
        let prev = 0
        for (const end of [...points, sealed.length]) {
          const chunk = new Uint8Array([...pending, ...sealed.subarray(prev, end)])
          prev = end
          const r = rx.openFrames(chunk)
          expect(r.error).toBeNull()
          got.push(...r.lens)
          out += hex(r.plain)
          pending = chunk.subarray(r.consumed)
        }
        expect(got).toEqual(Array.from(lens))
        expect(out).toBe(hex(plain))
        expect(pending.length).toBe(0)
      }),
      { seed: FC_SEED, numRuns: 100 },
    )
  })

  it('sealInPlace gives the bytes sealFrames gives; a refused batch seals nothing and keeps the counter', () => {
    const frames = [Uint8Array.of(1, 2, 3), new Uint8Array(0), new Uint8Array(200).fill(9)]
    const { plain, lens } = pack(frames)
    const expected = new b.SendCipher(KEY, true, 200).sealFrames(plain, lens)
    const tx = new b.SendCipher(KEY, true, 200)
    // Each plaintext after 4 bytes for its prefix, followed by 16 for its tag.
    const laidOut = new Uint8Array(plain.length + frames.length * 20)
    let at = 0
    for (const f of frames) {
      laidOut.set(f, at + 4)
      at += 4 + f.length + 16
    }
    const tooBig = new Uint8Array(201 + 20)
    expect(isP2pError(thrown(() => tx.sealInPlace!(tooBig, Uint32Array.of(201))), 'ERR_FRAME_TOO_LARGE')).toBe(true)
    expect(isP2pError(thrown(() => tx.sealInPlace!(laidOut.subarray(1), lens)), 'ERR_INVALID_ARGUMENT')).toBe(true)
    tx.sealInPlace!(laidOut, lens)
    expect(hex(laidOut)).toBe(hex(expected))
    const r = new b.RecvCipher(KEY, false, 200).openFrames(laidOut)
    expect(r.error).toBeNull()
    expect(hex(r.plain)).toBe(hex(plain))
  })

  it('frame bytes: a u32 BE length of plaintext + 16, the dialer bit in the nonce', () => {
    const a = new b.SendCipher(KEY, true, 10).sealFrames(Uint8Array.of(1, 2, 3), Uint32Array.of(3))
    expect(hex(a.subarray(0, 4))).toBe('00000013')
    const d = new b.SendCipher(KEY, false, 10).sealFrames(Uint8Array.of(1, 2, 3), Uint32Array.of(3))
    expect(hex(d)).not.toBe(hex(a))
    // A receiver of the wrong role refuses the frame (opening decrypts in place: use copies).
    expect(new b.RecvCipher(KEY, true, 10).openFrames(Uint8Array.from(a)).error).toBe('ERR_DECRYPT_FAILED')
    expect(new b.RecvCipher(KEY, false, 10).openFrames(Uint8Array.from(a)).error).toBeNull()
  })

  it('any flipped bit fails to decrypt, and the cipher stays failed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), (msg, at) => {
        const sealed = new b.SendCipher(KEY, true, 64).sealFrames(msg, Uint32Array.of(msg.length))
        const pos = 4 + (at % (sealed.length - 4))
        sealed[pos]! ^= 1 << (at % 8)
        const rx = new b.RecvCipher(KEY, false, 64)
        const r = rx.openFrames(sealed)
        expect(r.error).toBe('ERR_DECRYPT_FAILED')
        expect(r.consumed).toBe(0)
        expect(rx.openFrames(new Uint8Array(0)).error).toBe('ERR_DECRYPT_FAILED')
      }),
      { seed: FC_SEED, numRuns: 100 },
    )
  })

  it('replayed and reordered frames are refused', () => {
    const tx = new b.SendCipher(KEY, true, 16)
    const f1 = tx.sealFrames(Uint8Array.of(1), Uint32Array.of(1))
    const f2 = tx.sealFrames(Uint8Array.of(2), Uint32Array.of(1))
    const replay = new b.RecvCipher(KEY, false, 16)
    expect(replay.openFrames(Uint8Array.from(f1)).error).toBeNull()
    expect(replay.openFrames(Uint8Array.from(f1)).error).toBe('ERR_DECRYPT_FAILED')
    expect(new b.RecvCipher(KEY, false, 16).openFrames(f2).error).toBe('ERR_DECRYPT_FAILED')
  })

  it('size limits: checked from the length prefix alone, zero length refused', () => {
    const rx = () => new b.RecvCipher(KEY, false, 100)
    const prefix = (n: number) => {
      const p = new Uint8Array(4)
      new DataView(p.buffer).setUint32(0, n)
      return p
    }
    expect(rx().openFrames(prefix(116)).error).toBeNull()
    expect(rx().openFrames(prefix(117))).toMatchObject({ error: 'ERR_FRAME_TOO_LARGE', consumed: 0 })
    expect(rx().openFrames(prefix(0)).error).toBe('ERR_FRAME_EMPTY')
    expect(rx().openFrames(Uint8Array.of(0, 0, 0, 5, 1, 2, 3, 4, 5)).error).toBe('ERR_DECRYPT_FAILED')
    const tx = new b.SendCipher(KEY, true, 100)
    const e = thrown(() => tx.sealFrames(new Uint8Array(101), Uint32Array.of(101)))
    expect(isP2pError(e, 'ERR_FRAME_TOO_LARGE')).toBe(true)
    expect(isP2pError(thrown(() => tx.sealFrames(new Uint8Array(3), Uint32Array.of(2))), 'ERR_INVALID_ARGUMENT')).toBe(true)
    // Nothing was sealed: the next frame still uses the first nonce.
    const ok = tx.sealFrames(Uint8Array.of(9), Uint32Array.of(1))
    expect(hex(ok)).toBe(hex(new b.SendCipher(KEY, true, 100).sealFrames(Uint8Array.of(9), Uint32Array.of(1))))
  })

  it('the counter carries from seq 2^64-1 into iter, and the final nonce is never used', () => {
    const tx = new b.SendCipher(KEY, true, 8, counter(0, 2n ** 64n - 1n))
    const rx = new b.RecvCipher(KEY, false, 8, counter(0, 2n ** 64n - 1n))
    expect(rx.openFrames(tx.sealFrames(Uint8Array.of(1, 2), Uint32Array.of(1, 1))).lens.length).toBe(2)
    const carried = new b.SendCipher(KEY, true, 8, counter(1, 0n)).sealFrames(Uint8Array.of(7), Uint32Array.of(1))
    const afterCarry = new b.SendCipher(KEY, true, 8, counter(0, 2n ** 64n - 1n))
    expect(hex(afterCarry.sealFrames(Uint8Array.of(7, 7), Uint32Array.of(1, 1)).subarray(21))).toBe(hex(carried))
    const near = new b.SendCipher(KEY, true, 8, counter(65535, 2n ** 64n - 3n))
    expect(isP2pError(thrown(() => near.sealFrames(new Uint8Array(3), Uint32Array.of(1, 1, 1))), 'ERR_NONCE_OVERFLOW')).toBe(true)
    expect(near.sealFrames(new Uint8Array(2), Uint32Array.of(1, 1)).length).toBe(42)
    expect(isP2pError(thrown(() => near.sealFrames(new Uint8Array(1), Uint32Array.of(1))), 'ERR_NONCE_OVERFLOW')).toBe(true)
  })

  it('refuses bad keys and counters with typed errors', () => {
    expect(isP2pError(thrown(() => new b.SendCipher(new Uint8Array(31), true, 8)), 'ERR_INVALID_ARGUMENT')).toBe(true)
    expect(isP2pError(thrown(() => new b.RecvCipher(KEY, true, 8, new Uint8Array(9))), 'ERR_INVALID_ARGUMENT')).toBe(true)
  })
})

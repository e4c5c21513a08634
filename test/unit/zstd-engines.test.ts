/**
 * The fallback's zstd engines (zstd-napi when it loads, the WASM build always) against the Binding's
 * zstd contract, the Rust vectors and the addon: the same cap decisions on valid, multi-frame and
 * mutated inputs. The WASM engine is the one a platform without a compiler gets.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FC_SEED, hex, js, native, unhex } from '../helpers/backends.js'
import { zstdCodec, type ZstdCodec } from '../../src/native/js/zstd.js'
import { splitFrames } from '../../src/native/js/zstdframe.js'

const vectors = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'vectors', 'zstd.json'), 'utf8')) as {
  cases: { input: string; level: number; compressed: string }[]
}
const input = (spec: string): Uint8Array =>
  spec.startsWith('utf8:')
    ? new TextEncoder().encode(spec.slice(5))
    : Uint8Array.from({ length: Number(spec.slice('pattern:'.length)) }, (_, i) => (i * 31) % 251)

const wasm = zstdCodec('wasm')
const napi = zstdCodec('zstd-napi')
const engines: { name: string; z: ZstdCodec }[] = [
  ...(wasm instanceof Error ? [] : [{ name: 'wasm', z: wasm }]),
  ...(napi instanceof Error ? [] : [{ name: 'zstd-napi', z: napi }]),
]
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts))
const skippable = (n: number): Uint8Array => concat(Uint8Array.of(0x50, 0x2a, 0x4d, 0x18, n, 0, 0, 0), new Uint8Array(n))

it('the WASM engine loads in this Node without a compiler', () => {
  expect(wasm).not.toBeInstanceOf(Error)
  expect(js.zstdStatus().engine).not.toBeNull()
})

describe.each(engines)('zstd engine [$name]', ({ z }) => {
  it('decompresses every Rust vector with the capacity rule, and round-trips its own', () => {
    for (const c of vectors.cases) {
      const data = input(c.input)
      expect(hex(z.decompress(unhex(c.compressed), data.length)!)).toBe(hex(data))
      expect(z.decompress(unhex(c.compressed), data.length - 1)).toBeNull()
      expect(hex(z.compress(data, c.level))).toBe(c.compressed)
    }
  })

  it('refuses a bomb at the cap, garbage and empty input; accepts it at its size', () => {
    const bomb = z.compress(new Uint8Array(16 << 20), 19)
    expect(z.decompress(bomb, 1 << 20)).toBeNull()
    expect(z.decompress(bomb, 16 << 20)?.length).toBe(16 << 20)
    expect(z.decompress(Uint8Array.of(1, 2, 3, 4, 5), 100)).toBeNull()
    expect(z.decompress(new Uint8Array(0), 100)).toBeNull()
  })

  it('concatenated and skippable frames: all of them count against the cap', () => {
    const a = z.compress(new TextEncoder().encode('hello '), 3)
    const b = z.compress(new TextEncoder().encode('world'), 3)
    const both = concat(a, skippable(3), b)
    expect(new TextDecoder().decode(z.decompress(both, 11)!)).toBe('hello world')
    expect(z.decompress(both, 10)).toBeNull()
    expect(z.decompress(concat(a, Uint8Array.of(0)), 100)).toBeNull()
    expect(z.decompress(skippable(2), 100)?.length).toBe(0)
  })

  it.skipIf(!native)('agrees with the addon on mutated and concatenated inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(), fc.nat(255), fc.boolean(), (data, at, value, twice) => {
        let packed = native!.zstdCompress(data, 3)
        if (twice) packed = concat(packed, native!.zstdCompress(data, 1))
        const mutated = Uint8Array.from(packed)
        mutated[at % mutated.length] = value
        for (const [bytes, cap] of [[packed, 800], [packed, data.length], [mutated, 1024]] as const) {
          const ours = z.decompress(bytes, cap)
          const theirs = native!.zstdDecompress(bytes, cap)
          expect(ours === null ? null : hex(ours)).toBe(theirs === null ? null : hex(theirs))
        }
      }),
      { seed: FC_SEED, numRuns: 500 },
    )
  })
})

it('splitFrames: frame ends and declared sizes; truncation and bad magic are refused', () => {
  const w = wasm as ZstdCodec
  const one = w.compress(new Uint8Array(300), 3)
  expect(splitFrames(one)).toEqual([{ skippable: false, start: 0, end: one.length, declared: 300 }])
  const two = concat(one, skippable(4), one)
  expect(splitFrames(two)?.map((f) => [f.start, f.end, f.declared])).toEqual([
    [0, one.length, 300],
    [one.length, one.length + 12, 0],
    [one.length + 12, 2 * one.length + 12, 300],
  ])
  expect(splitFrames(one.subarray(0, one.length - 1))).toBeNull()
  expect(splitFrames(Uint8Array.of(0x28, 0xb5, 0x2f, 0xfc, 0))).toBeNull()
  expect(splitFrames(new Uint8Array(0))).toBeNull()
})

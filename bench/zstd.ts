/**
 * zstd::compress / zstd::decompress at level 3, 1 KiB to 1 MiB of semi-compressible data.
 *
 * Baselines: the fallback (zstd-napi) and node:zlib deflate level 3 (what a user might pick instead).
 */
import { deflateSync, inflateSync } from 'node:zlib'
import { backends, newBench, param, printRatios, type Row } from './util.js'

function sample(n: number): Uint8Array {
  const words = ['vote', 'block', 'height', 'round', 'digest', 'signature', 'view', 'leader']
  const out = new Uint8Array(n)
  let x = 12345
  for (let i = 0; i < n; ) {
    x = (x * 1103515245 + 12345) >>> 0
    const w = new TextEncoder().encode(words[x % words.length]! + ' ' + (x % 1000) + ' ')
    out.set(w.subarray(0, Math.min(w.length, n - i)), i)
    i += w.length
  }
  return out
}

export async function run(): Promise<Row[]> {
  const bench = newBench('zstd level 3 (one buffer per op)')
  for (const size of [1024, 65_536, 1 << 20]) {
    const data = sample(size)
    for (const { name, b } of backends) {
      const packed = b.zstdCompress(data, 3)
      bench.add(`zstd::compress/backend=${name} size=${size}`, () => b.zstdCompress(data, 3))
      bench.add(`zstd::decompress/backend=${name} size=${size}`, () => {
        if (!b.zstdDecompress(packed, size)) throw new Error('decompress failed')
      })
    }
    const deflated = deflateSync(data, { level: 3 })
    bench.add(`zstd::compress/backend=node-zlib size=${size}`, () => deflateSync(data, { level: 3 }))
    bench.add(`zstd::decompress/backend=node-zlib size=${size}`, () => inflateSync(deflated))
  }
  await bench.run()
  return printRatios(bench, {
    group: (t) => `${t.split('/')[0]}/${param(t, 'size')}`,
    who: (t) => param(t, 'backend'),
    baselines: ['js', 'node-zlib'],
    bytesPerOp: (t) => Number(param(t, 'size')),
  })
}

/**
 * zstd for the fallback backend (zstd-napi, the C library through N-API).
 *
 * ## Design
 * `compress` writes one frame with the content size in its header (`ZSTD_compress`). `decompress`
 * mirrors the reference's `zstd::bulk::decompress(data, capacity)`: the whole input (one or more
 * concatenated frames) must decode into at most `maxBytes`, else the message is refused. The output
 * buffer is sized from the frame header when it declares a size, so a frame that claims more than the
 * cap is refused before anything is allocated, and a small message never costs a cap-sized buffer.
 *
 * ## Not provided
 * Dictionaries and streaming: messages are compressed one by one, as the reference does.
 *
 * ## Example
 * `zstdDecompress(zstdCompress(data, 3), data.length)` equals `data`; with `data.length - 1` it is null.
 */
import zstd from 'zstd-napi/binding.js'
import { CompressError } from '../../errors.js'

interface ZstdBinding {
  compress(dst: Uint8Array, src: Uint8Array, level: number): number
  compressBound(n: number): number
  getFrameContentSize(frame: Uint8Array): number | null
  minCLevel(): number
  maxCLevel(): number
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number }
}

const z = zstd as unknown as ZstdBinding
const dctx = new z.DCtx()

export function zstdCompress(data: Uint8Array, level: number): Uint8Array {
  if (!Number.isInteger(level) || level < z.minCLevel() || level > z.maxCLevel()) {
    throw new CompressError(`zstd level must be an integer in ${z.minCLevel()}..${z.maxCLevel()}, got ${level}`)
  }
  const out = new Uint8Array(z.compressBound(data.length))
  const n = z.compress(out, data, level)
  return out.slice(0, n)
}

export function zstdDecompress(data: Uint8Array, maxBytes: number): Uint8Array | null {
  let declared: number | null
  try {
    declared = z.getFrameContentSize(data)
  } catch {
    return null
  }
  if (declared !== null && declared > maxBytes) return null
  // The first frame's declared size is a lower bound; more frames may follow, so retry at the cap.
  const sizes = declared !== null && declared < maxBytes ? [declared, maxBytes] : [maxBytes]
  for (const size of sizes) {
    const out = new Uint8Array(size)
    try {
      const n = dctx.decompress(out, data)
      return n === size ? out : out.slice(0, n)
    } catch {
      // too small for the whole input (try the cap next), or invalid data (null below)
    }
  }
  return null
}

/**
 * Splits a zstd input into its frames without decompressing anything (RFC 8878, section 3.1).
 *
 * ## Design
 * A zstd input is a sequence of frames: zstd frames (magic `0xFD2FB528`: header, blocks, optional
 * checksum) and skippable frames (magic `0x184D2A5?`, a 4-byte length, then opaque bytes). Walking
 * the block headers gives each frame's end the way `ZSTD_findFrameCompressedSize` does, and the frame
 * header gives the content size a frame declares. The WASM engine (`zstd.ts`) uses this to decompress
 * frame by frame under a cap, since its library call sizes the output from the first frame only.
 *
 * ## Not provided
 * Validation of the block contents: a frame that splits cleanly may still fail to decode. Legacy
 * (pre-1.0) frames are refused.
 *
 * ## Example
 * `splitFrames(zstdCompress(data, 3))` is `[{ skippable: false, start: 0, end: n, declared: data.length }]`.
 */

/** One frame of a zstd input: `[start, end)` in the input, and the content size its header declares. */
export interface ZstdFrame {
  /** True for a skippable frame (no output). */
  skippable: boolean
  /** Offset of the frame's first byte. */
  start: number
  /** Offset just past the frame's last byte. */
  end: number
  /** Content size from the frame header, or null when the header does not declare it. */
  declared: number | null
}

const ZSTD_MAGIC = 0xfd2fb528
const SKIPPABLE_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
const DICT_ID_BYTES = [0, 1, 2, 4]
const FCS_BYTES = [0, 2, 4, 8]

function u32(d: Uint8Array, at: number): number {
  return (d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16) | (d[at + 3]! << 24)) >>> 0
}

/** The frames of `data`, or null when it is empty, truncated, or not a sequence of zstd frames. */
export function splitFrames(data: Uint8Array): ZstdFrame[] | null {
  const frames: ZstdFrame[] = []
  let pos = 0
  while (pos < data.length) {
    if (pos + 4 > data.length) return null
    const magic = u32(data, pos)
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (pos + 8 > data.length) return null
      const end = pos + 8 + u32(data, pos + 4)
      if (end > data.length) return null
      frames.push({ skippable: true, start: pos, end, declared: 0 })
      pos = end
      continue
    }
    if (magic !== ZSTD_MAGIC) return null
    const frame = zstdFrame(data, pos)
    if (frame === null) return null
    frames.push(frame)
    pos = frame.end
  }
  return frames.length > 0 ? frames : null
}

function zstdFrame(data: Uint8Array, start: number): ZstdFrame | null {
  if (start + 5 > data.length) return null
  const fhd = data[start + 4]!
  if (fhd & 0x08) return null // reserved bit
  const fcsFlag = fhd >> 6
  const isSingleSegment = (fhd & 0x20) !== 0
  const hasChecksum = (fhd & 0x04) !== 0
  const fcsBytes = fcsFlag === 0 ? (isSingleSegment ? 1 : 0) : FCS_BYTES[fcsFlag]!
  const fcsAt = start + 5 + (isSingleSegment ? 0 : 1) + DICT_ID_BYTES[fhd & 3]!
  let pos = fcsAt + fcsBytes
  if (pos > data.length) return null
  let declared: number | null = null
  if (fcsBytes === 1) declared = data[fcsAt]!
  else if (fcsBytes === 2) declared = (data[fcsAt]! | (data[fcsAt + 1]! << 8)) + 256
  else if (fcsBytes === 4) declared = u32(data, fcsAt)
  else if (fcsBytes === 8) declared = u32(data, fcsAt + 4) * 2 ** 32 + u32(data, fcsAt)
  for (;;) {
    if (pos + 3 > data.length) return null
    const header = data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16)
    const type = (header >> 1) & 3
    if (type === 3) return null // reserved block type
    pos += 3 + (type === 1 ? 1 : header >>> 3)
    if (pos > data.length) return null
    if (header & 1) break
  }
  if (hasChecksum) pos += 4
  if (pos > data.length) return null
  return { skippable: false, start, end: pos, declared }
}

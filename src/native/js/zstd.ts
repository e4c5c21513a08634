/**
 * zstd for the fallback backend: zstd-napi (the C library through N-API) when it loads, else a WASM
 * build of the same library (@bokuweb/zstd-wasm), which needs no compiler and no install script.
 *
 * ## Design
 * Both engines produce and accept the bytes the Rust side does (the same libzstd). `compress` writes one
 * frame with the content size in its header (`ZSTD_compress`). `decompress` mirrors the reference's
 * `zstd::bulk::decompress(data, capacity)`: the whole input (one or more concatenated frames) must decode
 * into at most `maxBytes`, else the message is refused. A frame that declares more than the cap is
 * refused before anything is allocated, and a small message never costs a cap-sized buffer.
 *
 * zstd-napi is required only when the fallback first needs zstd, so a missing or unbuilt zstd-napi never
 * stops the package from loading. The WASM module is compiled by `prepareZstd()`, which `createJsBinding`
 * awaits (instantiation is asynchronous); every call after that is synchronous. The WASM library sizes
 * its output from the first frame only, so inputs are split into frames (`zstdframe.ts`) and decoded one
 * by one against what is left of the cap. `P2P_ZSTD=wasm`, `zstd-napi` or `none` forces a choice.
 *
 * ## Not provided
 * Dictionaries and streaming: messages are compressed one by one, as the reference does. The WASM
 * engine is several times slower than zstd-napi, and its heap keeps the size of the largest message.
 *
 * ## Example
 * `zstdDecompress(zstdCompress(data, 3), data.length)` equals `data`; with `data.length - 1` it is null.
 */
import { createRequire } from 'node:module'
import { CompressError, CompressionUnavailableError } from '../../errors.js'
import type { ZstdEngine, ZstdStatus } from '../binding.js'
import { splitFrames } from './zstdframe.js'

/** ZSTD_minCLevel() and ZSTD_maxCLevel() of libzstd 1.5 (the same in both engines and in Rust). */
const MIN_LEVEL = -(1 << 17)
const MAX_LEVEL = 22
/** The WASM heap is 32-bit and its library returns sizes as signed 32-bit numbers. */
const WASM_MAX_OUTPUT = 0x7fff_ffff

/** One zstd implementation with the Binding's contract. */
export interface ZstdCodec {
  /** Which implementation this is. */
  readonly engine: Exclude<ZstdEngine, 'rust'>
  /** One frame with the content size in its header; the level is checked by the caller. */
  compress(data: Uint8Array, level: number): Uint8Array
  /** All frames of `data` decoded into at most `maxBytes`, or null. */
  decompress(data: Uint8Array, maxBytes: number): Uint8Array | null
}

interface NapiZstd {
  compress(dst: Uint8Array, src: Uint8Array, level: number): number
  compressBound(n: number): number
  getFrameContentSize(frame: Uint8Array): number | null
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number }
}

interface WasmZstd {
  init(): Promise<void>
  compress(buf: Uint8Array, level?: number): Uint8Array
  decompress(buf: Uint8Array, opts?: { defaultHeapSize?: number }): Uint8Array
}

const require = createRequire(import.meta.url)

function napiCodec(z: NapiZstd): ZstdCodec {
  const dctx = new z.DCtx()
  return {
    engine: 'zstd-napi',
    compress(data, level) {
      const out = new Uint8Array(z.compressBound(data.length))
      return out.slice(0, z.compress(out, data, level))
    },
    decompress(data, maxBytes) {
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
    },
  }
}

function wasmCodec(z: WasmZstd): ZstdCodec {
  return {
    engine: 'wasm',
    compress(data, level) {
      try {
        return z.compress(data, level)
      } catch (err) {
        throw new CompressError(`zstd (wasm) failed: ${firstLine(err)}`)
      }
    },
    decompress(data, maxBytes) {
      const frames = splitFrames(data)
      if (frames === null) return null
      let left = Math.min(maxBytes, WASM_MAX_OUTPUT)
      const parts: Uint8Array[] = []
      for (const f of frames) {
        if (f.skippable) continue
        if (f.declared !== null && f.declared > left) return null
        let out: Uint8Array
        try {
          // Sized from the frame's declared size, else from what is left of the cap.
          out = z.decompress(data.subarray(f.start, f.end), { defaultHeapSize: left })
        } catch {
          return null // invalid frame, or more output than `left`
        }
        if (out.length > left) return null
        left -= out.length
        parts.push(out)
      }
      if (parts.length === 1) return parts[0]!
      const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
      let at = 0
      for (const p of parts) {
        all.set(p, at)
        at += p.length
      }
      return all
    },
  }
}

let wasm: ZstdCodec | undefined
let wasmError: unknown = new Error('prepareZstd() was not awaited')

/** Compiles the WASM engine; never throws (a failure is reported by `zstdStatus`). */
export async function prepareZstd(): Promise<void> {
  if (wasm) return
  try {
    const z = require('@bokuweb/zstd-wasm') as WasmZstd
    await z.init()
    wasm = wasmCodec(z)
  } catch (err) {
    wasmError = err
  }
}

/** The named engine, or the reason it cannot be used. */
export function zstdCodec(engine: Exclude<ZstdEngine, 'rust'>): ZstdCodec | Error {
  if (engine === 'wasm') return wasm ?? new Error(`zstd wasm: ${firstLine(wasmError)}`)
  try {
    return napiCodec(require('zstd-napi/binding.js') as NapiZstd)
  } catch (err) {
    return new Error(`zstd-napi: ${firstLine(err)}`)
  }
}

let active: ZstdCodec | null | undefined
let status: ZstdStatus = { engine: null, detail: 'not resolved yet' }

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0]!
}

function resolve(): ZstdCodec | null {
  if (active !== undefined) return active
  const forced = process.env.P2P_ZSTD
  const order: Exclude<ZstdEngine, 'rust'>[] =
    forced === 'wasm' ? ['wasm'] : forced === 'zstd-napi' ? ['zstd-napi'] : forced === 'none' ? [] : ['zstd-napi', 'wasm']
  const skipped: string[] = forced === 'none' ? ['P2P_ZSTD=none'] : []
  active = null
  for (const engine of order) {
    const codec = zstdCodec(engine)
    if (!(codec instanceof Error)) {
      active = codec
      break
    }
    skipped.push(codec.message)
  }
  if (active && forced === active.engine) skipped.push(`P2P_ZSTD=${forced}`)
  status = { engine: active?.engine ?? null, detail: skipped.length > 0 ? skipped.join('; ') : null }
  return active
}

/** The engine the fallback uses (resolved, and zstd-napi loaded, on the first call). */
export function zstdStatus(): ZstdStatus {
  resolve()
  return { ...status }
}

export function zstdCompress(data: Uint8Array, level: number): Uint8Array {
  if (!Number.isInteger(level) || level < MIN_LEVEL || level > MAX_LEVEL) {
    throw new CompressError(`zstd level must be an integer in ${MIN_LEVEL}..${MAX_LEVEL}, got ${level}`)
  }
  const codec = resolve()
  if (!codec) throw new CompressionUnavailableError(status.detail ?? 'no zstd engine')
  return codec.compress(data, level)
}

export function zstdDecompress(data: Uint8Array, maxBytes: number): Uint8Array | null {
  return resolve()?.decompress(data, maxBytes) ?? null
}

/**
 * The fallback `Binding`: the same bytes as the Rust addon, from libsodium-wrappers (WASM), zstd-napi
 * or a zstd WASM build (`zstd.ts`), @noble/curves (BLS only) and plain TypeScript.
 *
 * ## Design
 * One module per primitive; this file only assembles them once libsodium and the zstd WASM are ready.
 *
 * ## Not provided
 * The addon's speed, and ZIP-215 verification (see `sign.ts`).
 *
 * ## Example
 * `const b = await createJsBinding(); b.ed25519FromSeed(0n)`
 */
import sodium from 'libsodium-wrappers'
import type { Binding } from '../binding.js'
import { bitvecHasExtraBits, bitvecLacking } from './bitvec.js'
import { makeDh } from './dh.js'
import { makeCiphers } from './frame.js'
import { JsQuotaTable } from './quota.js'
import { makeSigner } from './sign.js'
import { prepareZstd, zstdCompress, zstdDecompress, zstdStatus } from './zstd.js'

export async function createJsBinding(): Promise<Binding> {
  await Promise.all([sodium.ready, prepareZstd()])
  return {
    name: 'js',
    ...makeSigner(sodium),
    ...makeDh(sodium),
    ...makeCiphers(sodium),
    zstdCompress,
    zstdDecompress,
    zstdStatus,
    bitvecLacking,
    bitvecHasExtraBits,
    QuotaTable: JsQuotaTable,
  }
}

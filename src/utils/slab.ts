/**
 * Small byte arrays carved out of shared slabs: `alloc(n)` is a view into a 64 KiB ArrayBuffer for
 * n <= 1 KiB, a buffer of its own above that (`uninit`).
 *
 * A `new Uint8Array(n)` above V8's on-heap limit (64 bytes) costs a malloc'd backing store and its
 * bookkeeping, and a finalizer when it dies; on a path that runs once per message (every Data message
 * sent is encoded into a fresh array) that was the sender's largest cost for 100 B messages. A view
 * into a slab costs one small heap object. A slab stays alive while any view into it does; views are
 * short-lived (a queued message until it is sealed), so that is a few slabs per busy connection.
 *
 * ## Not provided
 * Reuse: views are never recycled (a slab is dropped once full, and collected when its views are),
 * so a view never changes under its holder. Zeroing: like `Buffer.allocUnsafe`, a view's bytes are
 * not cleared; every caller writes all of them.
 *
 * ## Example
 * ```ts
 * const out = alloc(104) // write all 104 bytes before handing it on
 * ```
 */
const SLAB_BYTES = 64 << 10
/** Largest request served from a slab. */
const MAX_SMALL = 1 << 10

let slab = new ArrayBuffer(SLAB_BYTES)
let used = 0

/** `n` bytes the caller must fill entirely (not zeroed when carved from a slab). */
export function alloc(n: number): Uint8Array {
  if (n > MAX_SMALL) return uninit(n)
  if (used + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES)
    used = 0
  }
  const view = new Uint8Array(slab, used, n)
  // Keep views 8-byte aligned (cheap to copy into and out of).
  used += (n + 7) & ~7
  return view
}

/**
 * `n` bytes in an ArrayBuffer of their own, not zeroed (`Buffer.allocUnsafeSlow`'s memory as a plain
 * `Uint8Array`, whose `subarray` is cheaper than Buffer's): for large arrays the caller fills
 * entirely at once (a 1 MiB message's envelope, a frame being assembled), where `new Uint8Array(n)`
 * would first clear every byte.
 */
export function uninit(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n)
  return new Uint8Array(b.buffer, b.byteOffset, n)
}

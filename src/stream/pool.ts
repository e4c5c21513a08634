/**
 * Output buffers for large sealed batches, shared by every connection of the process and reused once
 * their write has completed.
 *
 * ## Design
 * Sealing a 1 MiB batch into a new buffer costs more than the copy: the fresh pages fault in one by
 * one (about a third of the seal's own time), and each such buffer is external memory that drives V8
 * to a full garbage collection every few dozen megabytes. A writer that takes a buffer here for each
 * batch of `POOLED_FROM` bytes or more, and gives it back once the socket has taken the bytes, seals
 * into pages already mapped and allocates nothing while it streams. Buffers all have one size
 * (`POOLED_BYTES`), so any of them fits any batch it serves; larger batches are not pooled.
 *
 * ## Not provided
 * Per-connection fairness or a bound on buffers in use: a connection holds a buffer only while its
 * batch is sealed and written (at most its writes in flight). At most `MAX_FREE` idle buffers are
 * kept (about 4 MiB for the process), never released; the pool is empty until the first large batch.
 * Only for sinks that no longer refer to the bytes once `send` resolves (`Connection.isRealSocket`).
 *
 * ## Example
 * ```ts
 * const buf = takeBuffer(n) // undefined: allocate as usual
 * if (buf) await sink.send(buf.subarray(0, n)).then(() => giveBuffer(buf))
 * ```
 */

/** Capacity of every pooled buffer: a batch of BATCH_BYTES of plaintext with room for frame overheads. */
export const POOLED_BYTES = (1 << 20) + (64 << 10)
/** Smallest sealed batch (bytes) worth a pooled buffer: below this, allocation is cheap. */
export const POOLED_FROM = 64 << 10
/** Idle buffers kept for reuse, at most. */
const MAX_FREE = 4

const free: Uint8Array[] = []

/** A buffer of POOLED_BYTES for a sealed batch of `n` bytes, or undefined when `n` is not pooled. */
export function takeBuffer(n: number): Uint8Array | undefined {
  if (n < POOLED_FROM || n > POOLED_BYTES) return undefined
  return free.pop() ?? new Uint8Array(POOLED_BYTES)
}

/** Return a buffer from `takeBuffer` once nothing refers to its bytes any more. */
export function giveBuffer(buf: Uint8Array): void {
  if (free.length < MAX_FREE && buf.length === POOLED_BYTES) free.push(buf)
}

/**
 * `hexOf(bytes)`: lowercase hex of a byte array, read in place (no copy of the bytes first). The one
 * helper the tracker, oracle, simulated network and requester use to key maps by public key.
 */
export const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

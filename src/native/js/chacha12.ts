/**
 * The reference's seeded generator: rand 0.8.5's `StdRng::seed_from_u64` (PCG32-expanded seed into
 * ChaCha12), used only to reproduce `from_seed(n)` keys.
 *
 * ## Design
 * `seed_from_u64` fills the 32-byte ChaCha key with eight PCG32 outputs (state advanced first,
 * little-endian words). ChaCha12Rng then emits the keystream of ChaCha with 12 rounds, a 64-bit block
 * counter from 0 and a zero stream id, words in little-endian order. Callers draw a prefix of it.
 *
 * ## Not provided
 * A general-purpose RNG: this exists to match test keys byte for byte; it is not a CSPRNG for secrets.
 *
 * ## Example
 * `seededBytes(0n, 32)` is the private key of the reference's `Ed25519::from_seed(0)`.
 */

const MASK64 = (1n << 64n) - 1n
const PCG_MUL = 6364136223846793005n
const PCG_INC = 11634580027462260723n

function pcgKey(seed: bigint): Uint32Array {
  const key = new Uint32Array(8)
  let state = seed & MASK64
  for (let i = 0; i < 8; i++) {
    state = (state * PCG_MUL + PCG_INC) & MASK64
    const xorshifted = Number((((state >> 18n) ^ state) >> 27n) & 0xffff_ffffn)
    const rot = Number(state >> 59n)
    key[i] = ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0
  }
  return key
}

const rotl = (x: number, n: number): number => ((x << n) | (x >>> (32 - n))) >>> 0

function quarter(s: Uint32Array, a: number, b: number, c: number, d: number): void {
  s[a] = (s[a]! + s[b]!) >>> 0
  s[d] = rotl(s[d]! ^ s[a]!, 16)
  s[c] = (s[c]! + s[d]!) >>> 0
  s[b] = rotl(s[b]! ^ s[c]!, 12)
  s[a] = (s[a]! + s[b]!) >>> 0
  s[d] = rotl(s[d]! ^ s[a]!, 8)
  s[c] = (s[c]! + s[d]!) >>> 0
  s[b] = rotl(s[b]! ^ s[c]!, 7)
}

/** One ChaCha block with `rounds` rounds, 64-bit counter `counter`, stream id 0. */
export function chachaBlock(key: Uint32Array, counter: number, rounds: number): Uint8Array {
  const init = new Uint32Array([
    0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
    ...key,
    counter >>> 0, Math.floor(counter / 2 ** 32) >>> 0, 0, 0,
  ])
  const s = Uint32Array.from(init)
  for (let i = 0; i < rounds; i += 2) {
    quarter(s, 0, 4, 8, 12)
    quarter(s, 1, 5, 9, 13)
    quarter(s, 2, 6, 10, 14)
    quarter(s, 3, 7, 11, 15)
    quarter(s, 0, 5, 10, 15)
    quarter(s, 1, 6, 11, 12)
    quarter(s, 2, 7, 8, 13)
    quarter(s, 3, 4, 9, 14)
  }
  const out = new Uint8Array(64)
  const view = new DataView(out.buffer)
  for (let i = 0; i < 16; i++) view.setUint32(i * 4, (s[i]! + init[i]!) >>> 0, true)
  return out
}

/** The first `length` bytes `StdRng::seed_from_u64(seed)` produces. */
export function seededBytes(seed: bigint, length: number): Uint8Array {
  return seededStream(seed)(length)
}

/** A reader over the whole keystream of `StdRng::seed_from_u64(seed)`: each call takes the next bytes. */
export function seededStream(seed: bigint): (length: number) => Uint8Array {
  const key = pcgKey(seed)
  let block = 0
  let buf: Uint8Array = new Uint8Array(0)
  let pos = 0
  return (length) => {
    const out = new Uint8Array(length)
    let filled = 0
    while (filled < length) {
      if (pos === buf.length) {
        buf = chachaBlock(key, block++, 12)
        pos = 0
      }
      const take = Math.min(length - filled, buf.length - pos)
      out.set(buf.subarray(pos, pos + take), filled)
      pos += take
      filled += take
    }
    return out
  }
}

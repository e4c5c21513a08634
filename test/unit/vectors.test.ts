/**
 * Every primitive against vectors printed by the published Rust crates (interop/), in every backend.
 * Where the fallback is deliberately stricter (ZIP-215 edge cases), its rejections are asserted.
 */
import { Gcra } from '../../src/utils/gcra.js'
import { Quota } from '../../src/utils/quota.js'
import { describe, expect, it } from 'vitest'
import { unionUnique } from '../../src/native/js/union.js'
import { backends, hex, unhex } from '../helpers/backends.js'
import { loadVectors } from '../helpers/vectors.js'

interface Doc<C> {
  cases: C[]
  [k: string]: unknown
}

const keys = loadVectors<Doc<{ scheme: string; seed: string; private: string; public: string }> & { ed25519_sorted_seeds: number[] }>('keys.json')
const union = loadVectors<Doc<{ namespace_len: number; msg: string; prefix: string; total_len: number; output?: string }>>('union_unique.json')
const handshake = loadVectors<Doc<{ scheme: string; sender_seed: string; namespace: string; payload: string; signed: string; signature: string; sender_public: string }>>('handshake.json')
const records = loadVectors<Doc<{ signer_seed: string; namespace: string; socket: string; timestamp: string; signed: string; signature: string; signer_public: string }>>('peer_record.json')
const nonces = loadVectors<Doc<{ dialer: boolean; counter: string; nonce: string; sealed: string }> & { key: string; plain: string }>('nonces.json')
const frames = loadVectors<Doc<{ sender: string; seq: string; plain: string; frame: string }> & { secret_a: string; secret_b: string; public_a: string; public_b: string; key: string; all_zero_peer: { shared: string; frame: string } }>('frames.json')
const zstd = loadVectors<Doc<{ input: string; level: number; compressed: string }>>('zstd.json')
const gcra = loadVectors<Doc<{ quota: string; period_ns: string; burst: number; steps: { time_ns: string; allowed: boolean; wait_ns: string }[] }>>('gcra.json')
const zip215 = loadVectors<Doc<{ description: string; namespace: string; msg: string; public: string; signature: string; validate: boolean; verify: boolean }>>('zip215.json')

function input(spec: string): Uint8Array {
  if (spec.startsWith('utf8:')) return new TextEncoder().encode(spec.slice(5))
  const n = Number(spec.slice('pattern:'.length))
  return Uint8Array.from({ length: n }, (_, i) => (i * 31) % 251)
}

it('union_unique matches commonware_utils for every namespace length', () => {
  for (const c of union.cases) {
    const out = unionUnique(new Uint8Array(c.namespace_len).fill(0x6e), unhex(c.msg))
    expect(hex(out.subarray(0, c.prefix.length / 2))).toBe(c.prefix)
    expect(out.length).toBe(c.total_len)
    if (c.output) expect(hex(out)).toBe(c.output)
  }
})

describe.each(backends)('Rust vectors [$name]', ({ name, b }) => {
  it('keys: from_seed and public keys (Ed25519 and BLS12-381)', () => {
    for (const c of keys.cases) {
      if (c.scheme === 'ed25519') {
        expect(hex(b.ed25519FromSeed(BigInt(c.seed)))).toBe(c.private)
        expect(hex(b.ed25519PublicKey(unhex(c.private)))).toBe(c.public)
      } else {
        expect(hex(b.blsFromSeed(BigInt(c.seed)))).toBe(c.private)
        expect(hex(b.blsPublicKey(unhex(c.private)))).toBe(c.public)
      }
    }
  })

  it('handshake signatures: same signed bytes and signature, and they verify', () => {
    for (const c of handshake.cases) {
      expect(hex(unionUnique(unhex(c.namespace), unhex(c.payload)))).toBe(c.signed)
      const ns = unhex(c.namespace)
      const payload = unhex(c.payload)
      if (c.scheme === 'ed25519') {
        expect(hex(b.ed25519Sign(b.ed25519FromSeed(BigInt(c.sender_seed)), ns, payload))).toBe(c.signature)
        expect(b.ed25519Verify(ns, payload, unhex(c.sender_public), unhex(c.signature))).toBe(true)
      } else {
        expect(hex(b.blsSign(b.blsFromSeed(BigInt(c.sender_seed)), ns, payload))).toBe(c.signature)
        expect(b.blsVerify(ns, payload, unhex(c.sender_public), unhex(c.signature))).toBe(true)
        expect(b.blsVerify(ns, payload.subarray(1), unhex(c.sender_public), unhex(c.signature))).toBe(false)
      }
    }
  })

  it('peer records: same signature over socket || timestamp', () => {
    for (const c of records.cases) {
      const ts = new Uint8Array(8)
      new DataView(ts.buffer).setBigUint64(0, BigInt(c.timestamp))
      const payload = new Uint8Array([...unhex(c.socket), ...ts])
      expect(hex(unionUnique(unhex(c.namespace), payload))).toBe(c.signed)
      const sig = b.ed25519Sign(b.ed25519FromSeed(BigInt(c.signer_seed)), unhex(c.namespace), payload)
      expect(hex(sig)).toBe(c.signature)
    }
  })

  it('nonces: each (role, iter, seq) seals exactly as chacha20poly1305 with that nonce', () => {
    for (const c of nonces.cases) {
      const plain = unhex(nonces.plain)
      const frame = new b.SendCipher(unhex(nonces.key), c.dialer, 64, unhex(c.counter)).sealFrames(plain, Uint32Array.of(plain.length))
      expect(hex(frame.subarray(4))).toBe(c.sealed)
      const opened = new b.RecvCipher(unhex(nonces.key), !c.dialer, 64, unhex(c.counter)).openFrames(Uint8Array.from(frame))
      expect(hex(opened.plain)).toBe(nonces.plain)
    }
  })

  it('frames: the X25519 key and the full frames of both roles', () => {
    expect(hex(b.x25519PublicKey(unhex(frames.secret_a)))).toBe(frames.public_a)
    expect(hex(b.x25519PublicKey(unhex(frames.secret_b)))).toBe(frames.public_b)
    const key = b.x25519SharedSecret(unhex(frames.secret_a), unhex(frames.public_b))!
    expect(hex(key)).toBe(frames.key)
    const dialer = new b.SendCipher(key, true, 1024)
    const dialee = new b.SendCipher(key, false, 1024)
    const fromDialer = new b.RecvCipher(key, false, 1024)
    for (const c of frames.cases) {
      const plain = unhex(c.plain)
      const tx = c.sender === 'dialer' ? dialer : dialee
      expect(hex(tx.sealFrames(plain, Uint32Array.of(plain.length)))).toBe(c.frame)
      if (c.sender === 'dialer') expect(hex(fromDialer.openFrames(unhex(c.frame)).plain)).toBe(c.plain)
    }
  })

  it('X25519 with an all-zero peer key: the addon matches the reference, the fallback refuses', () => {
    const shared = b.x25519SharedSecret(unhex(frames.secret_a), new Uint8Array(32))
    if (name === 'native') {
      expect(hex(shared!)).toBe(frames.all_zero_peer.shared)
      const frame = new b.SendCipher(shared!, true, 16).sealFrames(new TextEncoder().encode('z'), Uint32Array.of(1))
      expect(hex(frame)).toBe(frames.all_zero_peer.frame)
    } else {
      expect(shared).toBeNull()
    }
  })

  it('zstd: decompresses every Rust output, with the capacity rule, and round-trips its own', () => {
    for (const c of zstd.cases) {
      const data = input(c.input)
      expect(hex(b.zstdDecompress(unhex(c.compressed), data.length)!)).toBe(hex(data))
      expect(b.zstdDecompress(unhex(c.compressed), data.length - 1)).toBeNull()
      expect(hex(b.zstdDecompress(b.zstdCompress(data, c.level), data.length)!)).toBe(hex(data))
    }
  })

  it('GCRA: the same decisions and waits as governor 0.6.3', () => {
    for (const c of gcra.cases) {
      const table = new b.QuotaTable()
      table.setQuota(0, Number(c.period_ns), c.burst)
      for (const s of c.steps) {
        const wait = table.check(0, 0, Number(s.time_ns))
        expect({ allowed: wait === 0, wait }).toEqual({ allowed: s.allowed, wait: Number(s.wait_ns) })
      }
    }
  })

  it('GCRA: the plain JavaScript Gcra makes the same decisions and waits as governor 0.6.3', () => {
    for (const c of gcra.cases) {
      const g = new Gcra(Quota.withPeriod(Number(c.period_ns) / 1e6).allowBurst(c.burst))
      for (const s of c.steps) {
        const wait = g.check(Number(s.time_ns))
        expect({ allowed: wait === 0, wait }).toEqual({ allowed: s.allowed, wait: Number(s.wait_ns) })
      }
    }
  })

  it('Ed25519 hostile encodings: validate as the reference; verify as ZIP-215 (addon) or stricter (fallback)', () => {
    for (const c of zip215.cases) {
      const args = [unhex(c.namespace), unhex(c.msg), unhex(c.public), unhex(c.signature)] as const
      expect(b.ed25519Validate(unhex(c.public)), c.description).toBe(c.validate)
      const control = c.description.startsWith('control')
      // The fallback (libsodium) refuses every edge case; it must still accept the ordinary signature.
      expect(b.ed25519Verify(...args), c.description).toBe(name === 'native' || control ? c.verify : false)
    }
  })
})

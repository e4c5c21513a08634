/**
 * Wraps the raw Rust addon exports as a `Binding`.
 *
 * ## Design
 * The addon's functions already have the `Binding` shapes; this adds the backend name and turns the
 * addon's coded `Error`s (`"ERR_CODE: detail"`) into typed `P2pError`s. Hot paths (seal, open) are
 * direct calls inside one try/catch.
 */
import type { Binding, ExpandedSigner, OpenResult, QuotaTable, RecvCipher, SendCipher } from './binding.js'
import { typedError } from './codes.js'

type Fn = (...args: never[]) => unknown

function guard<F extends Fn>(f: F): F {
  return ((...args: Parameters<F>) => {
    try {
      return f(...args)
    } catch (err) {
      throw typedError(err)
    }
  }) as F
}

interface RawOpen {
  lens: Uint32Array
  plainLen: number
  consumed: number
  error?: OpenResult['error']
}
interface RawCipher {
  sealInto?(plain: Uint8Array, lens: Uint32Array, out: Uint8Array): void
  sealInPlace?(frames: Uint8Array, lens: Uint32Array): void
  sealPartsAsync?(parts: Uint8Array[], out: Uint8Array): Promise<void>
  openInPlace?(chunk: Uint8Array): RawOpen
  openInPlaceAsync?(chunk: Uint8Array): Promise<RawOpen>
}
type RawSigner = new (privateKey: Uint8Array) => ExpandedSigner

/** The addon's `Ed25519Signer` with its coded errors typed (a bad key length throws `InvalidArgumentError`). */
function nativeSigner(Raw: RawSigner): NonNullable<Binding['Ed25519Signer']> {
  return class {
    readonly #inner: InstanceType<RawSigner>
    constructor(privateKey: Uint8Array) {
      try {
        this.#inner = new Raw(privateKey)
      } catch (err) {
        throw typedError(err)
      }
    }
    sign(namespace: Uint8Array, msg: Uint8Array): Uint8Array {
      return this.#inner.sign(namespace, msg)
    }
  }
}

const FRAME_OVERHEAD = 20
type RawCtor = new (...args: unknown[]) => RawCipher

/** An `OpenResult` of the frames opened in place in `chunk`. */
function opened(chunk: Uint8Array, r: RawOpen): OpenResult {
  // napi leaves an absent Option as undefined; the Binding promises null.
  return { plain: chunk.subarray(0, r.plainLen), lens: r.lens, consumed: r.consumed, error: r.error ?? null }
}

/** ZSTD_COMPRESSBOUND: the largest output zstd can produce for `n` bytes of input. */
function zstdCompressBound(n: number): number {
  return n + (n >>> 8) + (n < 128 << 10 ? ((128 << 10) - n) >>> 11 : 0)
}

export function adaptNative(raw: unknown): Binding {
  const r = raw as Record<string, Fn> & {
    SendCipher: RawCtor
    RecvCipher: RawCtor
    QuotaTable: new () => QuotaTable
  }
  for (const name of ['SendCipher', 'RecvCipher', 'QuotaTable', 'ed25519Sign', 'zstdCompressInto', 'bitvecLacking']) {
    if (typeof (r as Record<string, unknown>)[name] !== 'function') throw new Error(`native addon lacks ${name}`)
  }

  class NativeSendCipher implements SendCipher {
    readonly #inner: RawCipher
    constructor(key: Uint8Array, isDialer: boolean, maxPlainBytes: number, counter?: Uint8Array) {
      try {
        this.#inner = new r.SendCipher(key, isDialer, maxPlainBytes, counter)
      } catch (err) {
        throw typedError(err)
      }
    }
    sealFrames(plain: Uint8Array, lens: Uint32Array): Uint8Array {
      let size = plain.length
      for (let i = 0; i < lens.length; i++) size += FRAME_OVERHEAD
      // Allocated here, filled in Rust: no buffer crosses back (external buffers cost a GC each).
      const out = Buffer.allocUnsafe(size)
      try {
        this.#inner.sealInto!(plain, lens, out)
        return out
      } catch (err) {
        throw typedError(err)
      }
    }
    sealInPlace(frames: Uint8Array, lens: Uint32Array): void {
      try {
        this.#inner.sealInPlace!(frames, lens)
      } catch (err) {
        throw typedError(err)
      }
    }
    sealFramesAsync(parts: Uint8Array[], out: Uint8Array): Promise<void> {
      try {
        return this.#inner.sealPartsAsync!(parts, out).catch((err: unknown) => Promise.reject(typedError(err)))
      } catch (err) {
        throw typedError(err)
      }
    }
  }

  class NativeRecvCipher implements RecvCipher {
    readonly #inner: RawCipher
    constructor(key: Uint8Array, isDialer: boolean, maxPlainBytes: number, counter?: Uint8Array) {
      try {
        this.#inner = new r.RecvCipher(key, isDialer, maxPlainBytes, counter)
      } catch (err) {
        throw typedError(err)
      }
    }
    openFrames(chunk: Uint8Array): OpenResult {
      try {
        return opened(chunk, this.#inner.openInPlace!(chunk))
      } catch (err) {
        throw typedError(err)
      }
    }
    openFramesAsync(chunk: Uint8Array): Promise<OpenResult> {
      try {
        return this.#inner.openInPlaceAsync!(chunk).then(
          (r) => opened(chunk, r),
          (err: unknown) => Promise.reject(typedError(err)),
        )
      } catch (err) {
        throw typedError(err)
      }
    }
  }

  // An addon built before these methods: the connection then does without them.
  const proto = (c: RawCtor) => c.prototype as RawCipher
  if (typeof proto(r.SendCipher).sealPartsAsync !== 'function') delete (NativeSendCipher.prototype as Partial<SendCipher>).sealFramesAsync
  if (typeof proto(r.SendCipher).sealInPlace !== 'function') delete (NativeSendCipher.prototype as Partial<SendCipher>).sealInPlace
  if (typeof proto(r.RecvCipher).openInPlaceAsync !== 'function') delete (NativeRecvCipher.prototype as Partial<RecvCipher>).openFramesAsync

  class NativeQuotaTable implements QuotaTable {
    readonly #inner = new r.QuotaTable()
    setQuota = guard((cls: number, periodNs: number, burst: number) => this.#inner.setQuota(cls, periodNs, burst))
    check = guard((key: number, cls: number, nowNs: number) => this.#inner.check(key, cls, nowNs))
    removeKey(key: number): void {
      this.#inner.removeKey(key)
    }
    size(): number {
      return this.#inner.size()
    }
  }

  const compressInto = r.zstdCompressInto as unknown as (d: Uint8Array, l: number, o: Uint8Array) => number
  const declaredSize = r.zstdDeclaredSize as unknown as (d: Uint8Array) => number
  const decompressInto = r.zstdDecompressInto as unknown as (d: Uint8Array, o: Uint8Array) => number
  // Output buffers are allocated here and filled in Rust (see sealFrames).
  const zstdCompress = (data: Uint8Array, level: number): Uint8Array => {
    const out = Buffer.allocUnsafe(zstdCompressBound(data.length))
    try {
      return out.subarray(0, compressInto(data, level, out))
    } catch (err) {
      throw typedError(err)
    }
  }
  const zstdDecompress = (data: Uint8Array, maxBytes: number): Uint8Array | null => {
    const declared = declaredSize(data)
    if (declared === -2 || declared > maxBytes) return null
    // The first frame's size is a first guess (more frames may follow); the cap is the second.
    for (const size of declared >= 0 && declared < maxBytes ? [declared, maxBytes] : [maxBytes]) {
      const out = Buffer.allocUnsafe(size)
      const n = decompressInto(data, out)
      if (n >= 0) return out.subarray(0, n)
    }
    return null
  }

  const g = <K extends keyof Binding>(name: K): Binding[K] => guard(r[name as string] as Fn) as unknown as Binding[K]
  return {
    name: 'native',
    ed25519FromSeed: g('ed25519FromSeed'),
    ed25519PublicKey: g('ed25519PublicKey'),
    ed25519Sign: g('ed25519Sign'),
    ed25519Verify: g('ed25519Verify'),
    ed25519VerifyBatch: g('ed25519VerifyBatch'),
    ed25519Validate: g('ed25519Validate'),
    blsFromSeed: g('blsFromSeed'),
    blsKeygen: g('blsKeygen'),
    blsPublicKey: g('blsPublicKey'),
    blsSign: g('blsSign'),
    blsVerify: g('blsVerify'),
    blsValidate: g('blsValidate'),
    x25519PublicKey: g('x25519PublicKey'),
    x25519SharedSecret: g('x25519SharedSecret'),
    SendCipher: NativeSendCipher,
    RecvCipher: NativeRecvCipher,
    zstdCompress,
    zstdDecompress,
    zstdStatus: () => ({ engine: 'rust', detail: null }),
    bitvecLacking: g('bitvecLacking'),
    bitvecHasExtraBits: g('bitvecHasExtraBits'),
    QuotaTable: NativeQuotaTable,
    ...(typeof r.Ed25519Signer === 'function' ? { Ed25519Signer: nativeSigner(r.Ed25519Signer as unknown as RawSigner) } : {}),
    ...(typeof r.socketSendQueue === 'function' ? { socketSendQueue: r.socketSendQueue as (fd: number) => number | null } : {}),
  }
}

/**
 * The backends every primitive test runs against: the fallback always, the addon when it loaded.
 * Under `P2P_NATIVE=1` the addon is required (load.ts throws otherwise), so a missing addon fails CI.
 */
import { jsBinding, nativeBinding } from '../../src/native/load.js'
import type { Binding } from '../../src/native/binding.js'

export interface NamedBackend {
  name: 'js' | 'native'
  b: Binding
}

export const backends: NamedBackend[] = [
  { name: 'js', b: jsBinding },
  ...(nativeBinding ? [{ name: 'native' as const, b: nativeBinding }] : []),
]

export const native: Binding | undefined = nativeBinding
export const js: Binding = jsBinding

/** fast-check seed: fixed, overridable with FC_SEED. */
export const FC_SEED = Number(process.env.FC_SEED ?? 20241214)

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/** The error `f` throws, or undefined. */
export function thrown(f: () => unknown): unknown {
  try {
    f()
  } catch (e) {
    return e
  }
  return undefined
}

/** Concatenate frames into one buffer with their lengths (the shape `sealFrames` takes). */
export function pack(frames: Uint8Array[]): { plain: Uint8Array; lens: Uint32Array } {
  const plain = new Uint8Array(frames.reduce((n, f) => n + f.length, 0))
  let off = 0
  for (const f of frames) {
    plain.set(f, off)
    off += f.length
  }
  return { plain, lens: Uint32Array.from(frames.map((f) => f.length)) }
}

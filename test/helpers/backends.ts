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

/**
 * Chooses the backend: the Rust addon (`native/`) or the pure-TypeScript fallback (`./js/`).
 *
 * ## Design
 * `P2P_NATIVE=1` requires the addon and throws `NativeUnavailableError` if it cannot load;
 * `P2P_NATIVE=0` forces the fallback; unset prefers the addon and falls back quietly. Which one is
 * active is logged once (debug, `NODE_DEBUG=quorumnet`), and a fallback chosen because the addon
 * failed to load is reported once on stderr unless `P2P_NATIVE=0` asked for it. This is the only
 * module that touches `native/`.
 *
 * ## Example
 * ```ts
 * import { backend } from 'quorumnet'
 * console.log(backend) // 'native' or 'js'
 * ```
 */
import { createRequire } from 'node:module'
import { debuglog } from 'node:util'
import { NativeUnavailableError } from '../errors.js'
import type { Binding } from './binding.js'
import { adaptNative } from './adapter.js'
import { createJsBinding } from './js/index.js'

const log = debuglog('quorumnet')

/** Why the addon did not load (kept for diagnostics; attached as `cause` when it was required). */
export let nativeLoadError: unknown

/** Load the addon, or undefined if it is not built or cannot load on this platform. */
export function loadNative(): Binding | undefined {
  try {
    const raw: unknown = createRequire(import.meta.url)('../../native/index.cjs')
    return adaptNative(raw)
  } catch (err) {
    nativeLoadError = err
    return undefined
  }
}

const mode = process.env.P2P_NATIVE
const native = mode === '0' ? undefined : loadNative()
if (!native && mode === '1') throw new NativeUnavailableError({ cause: nativeLoadError })

/** The fallback, always available (tests compare it with the addon). */
export const jsBinding: Binding = await createJsBinding()
/** The addon, when it loaded (undefined under `P2P_NATIVE=0`). */
export const nativeBinding: Binding | undefined = native
/** The active backend. */
export const binding: Binding = native ?? jsBinding
/** Which backend is active: exported for users and reported by metrics. */
export const backend: 'native' | 'js' = binding.name

log('backend: %s', backend)
if (!native && mode === undefined) {
  process.emitWarning('quorumnet: native addon not available, using the TypeScript fallback', {
    code: 'QUORUMNET_FALLBACK',
    detail: String(nativeLoadError),
  })
}

/**
 * Chooses the backend: the Rust addon or the pure-TypeScript fallback (`./js/`), and records why.
 *
 * ## Design
 * The addon is looked for in order: the prebuilt platform package for this platform, CPU and libc
 * (`quorumnet-linux-x64-gnu` and so on, optional dependencies of the package, napi-rs layout), then a
 * local build (`native/quorumnet.node`, from `npm run build:native`), then the fallback. A candidate is
 * used only if it loads and reports the package's own version (`addonInfo().version`); one built for
 * another version is skipped with a `NativeVersionMismatchError` as its reason, never called.
 *
 * `P2P_NATIVE=1` requires the addon and throws `NativeUnavailableError` (its `cause` is the first
 * candidate's error) if none loads; `P2P_NATIVE=0` forces the fallback; unset prefers the addon and
 * falls back with one warning on stderr (`QUORUMNET_FALLBACK`). `loadReport()` says what was tried,
 * what was chosen and why; `quorumnet doctor` prints it. This is the only module that touches `native/`.
 *
 * ## Not provided
 * Loading an addon for another platform, or one that reports no version.
 *
 * ## Example
 * ```ts
 * import { backend } from 'quorumnet'
 * console.log(backend) // 'native' or 'js'
 * ```
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { debuglog } from 'node:util'
import { NativeUnavailableError, NativeVersionMismatchError } from '../errors.js'
import type { Binding, ZstdStatus } from './binding.js'
import { adaptNative } from './adapter.js'
import { createJsBinding } from './js/index.js'

const log = debuglog('quorumnet')
const require = createRequire(import.meta.url)

/** Where an addon candidate comes from. */
export type AddonSource = 'platform-package' | 'local-build'

/** One addon candidate the loader tried. */
export interface LoadAttempt {
  /** Platform package or local build. */
  source: AddonSource
  /** The package name or file the loader required. */
  target: string
  /** Why it was not used, or null when it was. */
  error: string | null
}

/** A CPU feature the addon's libraries dispatch on, and whether this CPU has it. */
export interface CpuFeature {
  /** Feature name as the architecture manuals spell it (`avx2`, `neon`). */
  name: string
  /** Whether this CPU has it. */
  detected: boolean
  /** The libraries in the addon whose fast path needs it. */
  usedBy: string
}

/** The addon the loader chose. */
export interface AddonReport {
  /** Platform package or local build. */
  source: AddonSource
  /** The `.node` file. */
  path: string
  /** The version the addon reports (equal to the package's, or it would not have been used). */
  version: string
  /** The Rust target triple it was built for. */
  target: string
  /** The CPU features its libraries dispatch on, and which of them this CPU has. */
  cpuFeatures: CpuFeature[]
}

/** Everything the loader decided, for `quorumnet doctor` and bug reports. */
export interface LoadReport {
  /** The active backend. */
  backend: 'native' | 'js'
  /** `P2P_NATIVE` as set (`'0'`, `'1'`) or undefined. */
  mode: string | undefined
  /** This platform's package name, or null on a platform with no prebuilt package. */
  platformPackage: string | null
  /** The version of the quorumnet package. */
  packageVersion: string
  /** The addon in use, or null on the fallback. */
  addon: AddonReport | null
  /** Every candidate tried, in order. */
  attempts: LoadAttempt[]
  /** Why the fallback is active, or null when the addon is. */
  fallbackReason: string | null
  /** The zstd of the active backend (resolving it may load zstd-napi). */
  zstd: ZstdStatus
}

interface AddonInfo {
  version: string
  target: string
  cpuFeatures: CpuFeature[]
}

/** `quorumnet-<platform>-<arch>[-<abi>]` for this process, or null where no package is built. */
export function platformPackageName(platform = process.platform, arch = process.arch, libc = linuxLibc()): string | null {
  const abi = platform === 'linux' ? `-${libc}` : platform === 'win32' ? '-msvc' : ''
  const name = `quorumnet-${platform}-${arch}${abi}`
  return PLATFORM_PACKAGES.includes(name) ? name : null
}

/** The platform packages the release builds (package.json `napi.targets`, napi-rs names). */
export const PLATFORM_PACKAGES: readonly string[] = [
  'quorumnet-linux-x64-gnu',
  'quorumnet-linux-arm64-gnu',
  'quorumnet-linux-x64-musl',
  'quorumnet-linux-arm64-musl',
  'quorumnet-darwin-x64',
  'quorumnet-darwin-arm64',
  'quorumnet-win32-x64-msvc',
]

function linuxLibc(): 'gnu' | 'musl' {
  if (process.platform !== 'linux') return 'gnu'
  const report = process.report as (typeof process.report & { excludeNetwork?: boolean }) | undefined
  if (!report) return 'gnu'
  report.excludeNetwork = true
  const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
  return header?.glibcVersionRuntime ? 'gnu' : 'musl'
}

function message(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0]!
}

const packageVersion = (require('../../package.json') as { version: string }).version
const mode = process.env.P2P_NATIVE
const platformPackage = platformPackageName()
const attempts: LoadAttempt[] = []
let chosen = null as LoadReport['addon']

/** Why the addon did not load (the first candidate's error; attached as `cause` when it was required). */
export let nativeLoadError: unknown

function tryAddon(source: AddonSource, target: string, path: () => string): Binding | undefined {
  try {
    const raw = require(target) as { addonInfo?: () => AddonInfo }
    const file = path()
    const info = typeof raw.addonInfo === 'function' ? raw.addonInfo() : undefined
    if (info?.version !== packageVersion) throw new NativeVersionMismatchError(file, info?.version ?? 'unknown', packageVersion)
    const b = adaptNative(raw)
    attempts.push({ source, target, error: null })
    chosen = { source, path: file, version: info.version, target: info.target, cpuFeatures: info.cpuFeatures }
    return b
  } catch (err) {
    nativeLoadError ??= err
    attempts.push({ source, target, error: message(err) })
    return undefined
  }
}

/** Load the addon: the platform package, else the local build; undefined if neither loads. */
export function loadNative(): Binding | undefined {
  if (platformPackage) {
    const b = tryAddon('platform-package', platformPackage, () => require.resolve(platformPackage))
    if (b) return b
  } else {
    attempts.push({ source: 'platform-package', target: `${process.platform}-${process.arch}`, error: 'no prebuilt package for this platform' })
  }
  const local = '../../native/index.cjs'
  return tryAddon('local-build', local, () => join(dirname(require.resolve(local)), 'quorumnet.node'))
}

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

const fallbackReason =
  native ? null
  : mode === '0' ? 'P2P_NATIVE=0'
  : attempts.map((a) => `${a.source} ${a.target}: ${a.error}`).join('; ')

/** What the loader tried and chose, and why; `quorumnet doctor` prints it. */
export function loadReport(): LoadReport {
  return {
    backend,
    mode,
    platformPackage,
    packageVersion,
    addon: chosen,
    attempts: attempts.map((a) => ({ ...a })),
    fallbackReason,
    zstd: binding.zstdStatus(),
  }
}

log('backend: %s (%s)', backend, chosen ? `${chosen.source} ${chosen.path}` : fallbackReason)
if (!native && mode === undefined) {
  process.emitWarning('quorumnet: native addon not available, using the TypeScript fallback', {
    code: 'QUORUMNET_FALLBACK',
    detail: fallbackReason ?? undefined,
  })
}

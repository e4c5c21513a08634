/**
 * `quorumnet doctor`: which backend this installation runs on, and why.
 *
 * ## Design
 * Prints the loader's report (`loadReport()` in `src/native/load.ts`): the active backend and what
 * `P2P_NATIVE` asked for, the addon's file, where it came from (platform package or local build), its
 * version next to the package's, the target it was built for, the CPU features its libraries dispatch
 * on, the zstd engine, every candidate tried with its error, and why the fallback was taken. `--json`
 * prints the same report as one JSON object. It only reads; the exit code is 0.
 *
 * ## Not provided
 * Fixes: it says what to run (`npm run build:native`, installing the platform package), not run it.
 *
 * ## Example
 * ```sh
 * quorumnet doctor
 * P2P_NATIVE=0 quorumnet doctor --json
 * ```
 */
import { loadReport, type LoadReport } from '../native/load.js'
import { parseFlags } from './args.js'
import type { NodeIo } from './node.js'

export const DOCTOR_USAGE = `usage: quorumnet doctor [--json]

Prints which backend quorumnet runs on (the Rust addon or the TypeScript fallback), the addon's file,
its version and the package's, the CPU features the addon uses, the zstd engine, and why a fallback
was taken. P2P_NATIVE=1 requires the addon, P2P_NATIVE=0 forces the fallback.`

const SOURCE = { 'platform-package': 'platform package', 'local-build': 'local build' } as const

/** The report as aligned `label  value` lines. */
export function formatReport(r: LoadReport): string {
  const lines: [string, string][] = []
  const libc = process.platform === 'linux' ? ` (${r.platformPackage?.endsWith('-musl') ? 'musl' : 'glibc'})` : ''
  lines.push(['package', `quorumnet ${r.packageVersion} on Node ${process.version}, ${process.platform}-${process.arch}${libc}`])
  lines.push(['backend', `${r.backend === 'native' ? 'native (Rust addon)' : 'js (TypeScript fallback)'}; P2P_NATIVE=${r.mode ?? 'unset'}`])
  if (r.addon) {
    lines.push(['addon', `${r.addon.path} (${SOURCE[r.addon.source]})`])
    lines.push(['versions', `addon ${r.addon.version}, package ${r.packageVersion}; built for ${r.addon.target}`])
    const used = r.addon.cpuFeatures.filter((f) => f.detected)
    const missing = r.addon.cpuFeatures.filter((f) => !f.detected)
    const cpu = used.map((f) => `${f.name} (${f.usedBy})`).join(', ') || 'none of the features its libraries dispatch on'
    lines.push(['cpu features', cpu + (missing.length > 0 ? `; not available: ${missing.map((f) => f.name).join(', ')}` : '')])
  } else {
    lines.push(['addon', 'none loaded'])
    lines.push(['versions', `package ${r.packageVersion}`])
  }
  lines.push(['platform pkg', r.platformPackage ?? `none built for ${process.platform}-${process.arch}`])
  lines.push(['zstd', r.zstd.engine === null ? `unavailable (${r.zstd.detail}); compressed channels cannot be registered` : r.zstd.engine + (r.zstd.detail ? ` (${r.zstd.detail})` : '')])
  for (const [i, a] of r.attempts.entries()) {
    lines.push([i === 0 ? 'tried' : '', `${SOURCE[a.source]} ${a.target}: ${a.error ?? 'loaded'}`])
  }
  if (r.fallbackReason !== null) {
    const why =
      r.mode === '0' ? 'P2P_NATIVE=0 asked for it'
      : `no addon loaded (see tried); install ${r.platformPackage ?? 'a platform package'}, or run \`npm run build:native\` with cargo on PATH`
    lines.push(['fallback', why])
  }
  return lines.map(([k, v]) => `${k.padEnd(14)}${v}`).join('\n')
}

/** Run `quorumnet doctor`; resolves with the exit code. */
export function runDoctor(argv: string[], io: NodeIo): number {
  const flags = parseFlags(argv, { json: { type: 'boolean' } })
  if (flags.help) {
    io.stdout.write(DOCTOR_USAGE + '\n')
    return 0
  }
  const report = loadReport()
  io.stdout.write((flags.json ? JSON.stringify(report, null, 2) : formatReport(report)) + '\n')
  return 0
}

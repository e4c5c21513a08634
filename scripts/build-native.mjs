// Builds the Rust addon (native/) from source; runs as the npm `install` script.
//
// As the install script it first looks for the prebuilt platform package (quorumnet-<platform>-<arch>
// [-gnu|-musl|-msvc], an optional dependency): when that loads and reports this package's version,
// there is nothing to build. Without cargo, or when the build fails, it prints one line and exits 0:
// quorumnet then runs on its TypeScript fallback. With `--required` (npm run build:native) it always
// builds, and a failure is an error, as it is with P2P_NATIVE=1.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const required = process.argv.includes('--required') || process.env.P2P_NATIVE === '1'
const output = join(root, 'native', 'quorumnet.node')

function giveUp(reason) {
  const line = `quorumnet: native addon not built (${reason}); using the TypeScript fallback`
  if (required) {
    console.error(line)
    process.exit(1)
  }
  console.warn(line)
  process.exit(0)
}

/** The napi-rs name of this platform's package (the same rule as src/native/load.ts). */
function platformPackage() {
  let abi = ''
  if (process.platform === 'win32') abi = '-msvc'
  if (process.platform === 'linux') {
    process.report.excludeNetwork = true
    abi = process.report.getReport().header.glibcVersionRuntime ? '-gnu' : '-musl'
  }
  return `quorumnet-${process.platform}-${process.arch}${abi}`
}

if (process.env.P2P_NATIVE === '0' && !required) giveUp('P2P_NATIVE=0')
if (!process.argv.includes('--required')) {
  const name = platformPackage()
  try {
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version
    const addon = createRequire(join(root, 'package.json'))(name)
    if (addon.addonInfo().version === version) {
      console.log(`quorumnet: using the prebuilt addon ${name}; nothing to build`)
      process.exit(0)
    }
  } catch {
    // no platform package for this platform, or it does not load here: build from source below
  }
}
if (!existsSync(join(root, 'native', 'Cargo.toml'))) giveUp('native/Cargo.toml is missing')
const probe = spawnSync('cargo', ['--version'], { stdio: 'ignore' })
if (probe.error || probe.status !== 0) giveUp('cargo is not on PATH')

const napiCli = join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' })
let result
if (existsSync(napiCli)) {
  result = run(process.execPath, [
    napiCli, 'build', '--release',
    '--manifest-path', 'native/Cargo.toml',
    '--package-json-path', 'package.json',
    '--output-dir', 'native',
    '--package', 'quorumnet-native',
  ])
} else {
  result = run('cargo', ['build', '--release', '--locked', '-p', 'quorumnet-native'])
  if (result.status === 0) {
    const ext = process.platform === 'darwin' ? 'dylib' : process.platform === 'win32' ? 'dll' : 'so'
    const lib = process.platform === 'win32' ? 'quorumnet_native.dll' : `libquorumnet_native.${ext}`
    copyFileSync(join(root, 'target', 'release', lib), output)
  }
}
if (result.status !== 0 || !existsSync(output)) {
  process.stderr.write((result.stderr ?? '').split('\n').slice(-30).join('\n') + '\n')
  giveUp(`cargo build failed with status ${result.status}`)
}
console.log(`quorumnet: native addon built (${output})`)

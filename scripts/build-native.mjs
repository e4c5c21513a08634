// Builds the Rust addon (native/) from source; runs as the npm `install` script.
//
// Without cargo, or when the build fails, it prints one line and exits 0: quorumnet then runs on its
// TypeScript fallback. With `--required` (npm run build:native) or P2P_NATIVE=1 a failure is an error.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync } from 'node:fs'
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

if (process.env.P2P_NATIVE === '0' && !required) giveUp('P2P_NATIVE=0')
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

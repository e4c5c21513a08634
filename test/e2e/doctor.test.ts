/**
 * `quorumnet doctor` and the loader's choices as a user meets them, in child processes of the built
 * package: the report on each backend, an addon of another version skipped with its reason (a fake
 * platform package), and a platform with no zstd at all (P2P_ZSTD=none): the package loads, and only a
 * compressed channel is refused, at `register`, with a typed error.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { nativeBinding } from '../../src/native/load.js'
import { built, root, runCli } from '../helpers/cli.js'

const version = (await import('../../package.json', { with: { type: 'json' } })).default.version
const run = promisify(execFile)

interface Report {
  backend: string
  mode?: string
  packageVersion: string
  addon: { source: string; path: string; version: string; cpuFeatures: { name: string; detected: boolean }[] } | null
  attempts: { source: string; target: string; error: string | null }[]
  fallbackReason: string | null
  zstd: { engine: string | null; detail: string | null }
}

describe.skipIf(!built)('quorumnet doctor', () => {
  it('prints the backend, versions and why; --json has the same report', async () => {
    const { code, stdout } = await runCli(['doctor'])
    expect(code).toBe(0)
    expect(stdout).toMatch(new RegExp(`^package +quorumnet ${version.replace(/\./g, '\\.')} on Node`, 'm'))
    expect(stdout).toMatch(/^backend +(native \(Rust addon\)|js \(TypeScript fallback\))/m)
    expect(stdout).toMatch(/^zstd +(rust|zstd-napi|wasm)/m)
    const json = await runCli(['doctor', '--json'])
    const report = JSON.parse(json.stdout) as Report
    expect(report.packageVersion).toBe(version)
    expect(stdout).toMatch(new RegExp(`^backend +${report.backend}`, 'm'))
  })

  it.skipIf(!nativeBinding)('on the addon: its file, its version next to the package, CPU features', async () => {
    const { stdout } = await runCli(['doctor'], { P2P_NATIVE: '1' })
    expect(stdout).toMatch(/^addon +\S+\.node \((platform package|local build)\)$/m)
    expect(stdout).toMatch(/^tried +platform package /m)
    expect(stdout).toMatch(new RegExp(`^versions +addon ${version}, package ${version}; built for `, 'm'))
    const report = JSON.parse((await runCli(['doctor', '--json'], { P2P_NATIVE: '1' })).stdout) as Report
    expect(report.addon?.version).toBe(version)
    expect(report.fallbackReason).toBeNull()
    const names = report.addon!.cpuFeatures.map((f) => f.name)
    if (process.arch === 'x64') expect(names).toEqual(expect.arrayContaining(['avx2', 'bmi2', 'adx']))
    if (process.arch === 'arm64') expect(names).toEqual(['neon'])
    if (process.arch === 'x64' || process.arch === 'arm64') expect(stdout).toMatch(/^cpu features +\S/m)
  })

  it('under P2P_NATIVE=0: the fallback, and says it was asked for', async () => {
    const { code, stdout } = await runCli(['doctor'], { P2P_NATIVE: '0' })
    expect(code).toBe(0)
    expect(stdout).toMatch(/^backend +js \(TypeScript fallback\); P2P_NATIVE=0$/m)
    expect(stdout).toMatch(/^addon +none loaded$/m)
    expect(stdout).toMatch(/^fallback +P2P_NATIVE=0 asked for it$/m)
    const wasm = JSON.parse((await runCli(['doctor', '--json'], { P2P_NATIVE: '0', P2P_ZSTD: 'wasm' })).stdout) as Report
    expect(wasm.zstd).toEqual({ engine: 'wasm', detail: 'P2P_ZSTD=wasm' })
  })

  it('--help describes it', async () => {
    const { code, stdout } = await runCli(['doctor', '--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^usage: quorumnet doctor \[--json\]/)
  })
})

/** A project whose node_modules holds this package (symlinked) and a fake platform package. */
function projectWithFakeAddon(addonVersion: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'quorumnet-load-'))
  const modules = join(dir, 'node_modules')
  mkdirSync(modules)
  symlinkSync(root, join(modules, 'quorumnet'), 'dir')
  for (const name of ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']) {
    const pkg = join(modules, `quorumnet-${name}`)
    mkdirSync(pkg)
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: `quorumnet-${name}`, version: addonVersion, main: 'index.js' }))
    writeFileSync(join(pkg, 'index.js'), `module.exports = { addonInfo: () => ({ version: '${addonVersion}', target: 'fake', cpuFeatures: [] }) }\n`)
  }
  return dir
}

/** Run `code` as an ES module in `cwd` with node --preserve-symlinks (so quorumnet resolves from there). */
async function node(cwd: string, code: string, env: Record<string, string | undefined>): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--preserve-symlinks', '--input-type=module', '-e', code], { cwd, env: { ...process.env, ...env }, timeout: 30_000 })
}

describe.skipIf(!built)('loader', () => {
  it('skips an addon built for another version, with the mismatch as its reason, never calling it', async () => {
    const dir = projectWithFakeAddon('0.0.0-other')
    const report = `const { loadReport } = await import('quorumnet'); console.log(JSON.stringify(loadReport()))`
    const { stdout, stderr } = await node(dir, report, { P2P_NATIVE: undefined })
    const r = JSON.parse(stdout) as Report
    expect(r.attempts[0]).toMatchObject({ source: 'platform-package', error: expect.stringMatching(/is version 0\.0\.0-other, but quorumnet is/) })
    // The next candidate is the local build, when this checkout has one (built by npm install).
    const hasLocalBuild = existsSync(join(root, 'native', 'quorumnet.node'))
    expect(r.addon?.source ?? null).toBe(hasLocalBuild ? 'local-build' : null)
    if (!hasLocalBuild) expect(stderr.match(/native addon not available/g)).toHaveLength(1)
    const required = `try { await import('quorumnet') } catch (e) { console.log(e.code, e.cause?.code) }`
    const out = await node(dir, required, { P2P_NATIVE: '1' })
    if (!hasLocalBuild) expect(out.stdout.trim()).toBe('ERR_NATIVE_UNAVAILABLE ERR_NATIVE_VERSION_MISMATCH')
  })

  it('with no zstd at all: the package loads, plain channels register, a compressed one is refused at register', async () => {
    const code = `
      const { Ed25519 } = await import('quorumnet')
      const { Config, Network, Quota } = await import('quorumnet/authenticated')
      const { NodeContext } = await import('quorumnet/runtime')
      const signer = Ed25519.fromSeed(0)
      const cfg = Config.aggressive(signer, new TextEncoder().encode('no-zstd'), '127.0.0.1:0', [], 1 << 20)
      const { network } = Network.create(new NodeContext(), cfg)
      network.register(0, Quota.perSecond(10), 16)
      try { network.register(1, Quota.perSecond(10), 16, 3); console.log('registered') }
      catch (e) { console.log(e.name, e.code, e.channel, e.message) }`
    const { stdout } = await node(root, code, { P2P_NATIVE: '0', P2P_ZSTD: 'none' })
    expect(stdout.trim()).toMatch(/^CompressionUnavailableError ERR_COMPRESSION_UNAVAILABLE 1 channel 1 asks for zstd compression, which is not available on this platform \(P2P_ZSTD=none\)$/)
  })
})

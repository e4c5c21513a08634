/**
 * The platform packages agree with the main package: one directory per napi target, each named and
 * versioned as the loader and the optional dependencies expect, and the addon crate at the same
 * version (the loader refuses an addon whose version differs from the package's).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { PLATFORM_PACKAGES, platformPackageName } from '../../src/native/load.js'

const root = join(import.meta.dirname, '..', '..')
const json = (path: string): unknown => JSON.parse(readFileSync(join(root, path), 'utf8'))
const pkg = json('package.json') as { version: string; optionalDependencies: Record<string, string>; napi: { targets: string[] } }

it('native/Cargo.toml has the package version', () => {
  expect(/^version = "(.*)"$/m.exec(readFileSync(join(root, 'native', 'Cargo.toml'), 'utf8'))?.[1]).toBe(pkg.version)
})

it('npm/<platform>/ for every target: the loader names, the package version, listed as optional dependencies', () => {
  const dirs = readdirSync(join(root, 'npm')).sort()
  expect(dirs).toHaveLength(pkg.napi.targets.length)
  expect(dirs.map((d) => `quorumnet-${d}`).sort()).toEqual([...PLATFORM_PACKAGES].sort())
  for (const dir of dirs) {
    const p = json(`npm/${dir}/package.json`) as { name: string; version: string; main: string; os: string[]; cpu: string[]; libc?: string[] }
    expect(p.name).toBe(`quorumnet-${dir}`)
    expect(p.version).toBe(pkg.version)
    expect(p.main).toBe(`quorumnet.${dir}.node`)
    expect(pkg.optionalDependencies[p.name]).toBe(pkg.version)
    const libc = p.libc?.[0] === 'musl' ? 'musl' : 'gnu'
    expect(platformPackageName(p.os[0] as NodeJS.Platform, p.cpu[0] as NodeJS.Architecture, libc)).toBe(p.name)
  }
})

it('no platform package where none is built', () => {
  expect(platformPackageName('freebsd', 'x64', 'gnu')).toBeNull()
  expect(platformPackageName('linux', 'riscv64', 'gnu')).toBeNull()
})

/**
 * The README's TypeScript examples run as written: each ```ts block is saved inside the package (so
 * `import ... from 'quorumnet'` resolves to the built package, as for a user) and run with tsx; it must
 * exit 0 and print every `// -> expected` line, in order. A README example that rots fails here.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { built, root } from '../helpers/cli.js'

const readme = readFileSync(join(root, 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i): [number, string] => [i, m[1]!])
const dir = join(root, '.readme-examples')

describe.skipIf(!built)('README examples', () => {
  it('has TypeScript examples to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3)
  })

  it.each(blocks)('block %i runs and prints what its comments promise', async (index, code) => {
    mkdirSync(dir, { recursive: true })
    const file = join(dir, `block-${index}.ts`)
    writeFileSync(file, code)
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 30_000 })
    const expected = [...code.matchAll(/\/\/ -> (.*)$/gm)].map((m) => m[1]!.trim())
    const lines = stdout.split('\n').map((l) => l.trim())
    let at = 0
    for (const want of expected) {
      const found = lines.indexOf(want, at)
      expect(found, `expected "${want}" in order in:\n${stdout}`).toBeGreaterThanOrEqual(0)
      at = found + 1
    }
  })
})

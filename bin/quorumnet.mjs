#!/usr/bin/env node
// The `quorumnet` command (src/cli/main.ts, built to dist/ by `npm install`).
import { existsSync } from 'node:fs'

const entry = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write('quorumnet: dist/ is missing; run `npm install` (or `npm run build`) in the package first\n')
  process.exit(2)
}
const { main } = await import(entry.href)
const handlers = []
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => handlers.forEach((h) => h(sig)))
const code = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  onSignal: (h) => handlers.push(h),
})
process.exitCode = code
// Open handles (stdin, sockets of peers still closing) must not keep a finished command alive.
process.stdout.write('', () => process.exit(code))

/**
 * Summarise V8 CPU profiles (`.cpuprofile`, e.g. from `E2E_CPU_PROF=dir npm run bench:e2e -- rate
 * --candidates quorumnet-native --modes two-process --no-discovery`): self time by function and by
 * file, largest first.
 *
 * Usage: `node --import tsx bench/e2e/profile.ts FILE.cpuprofile [...] [--top N]`
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

const argv = process.argv.slice(2)
const topAt = argv.indexOf('--top')
const top = topAt >= 0 ? Number(argv[topAt + 1]) : 25
const files = argv.filter((a, i) => a.endsWith('.cpuprofile') && i !== topAt + 1)

const short = (url: string) => {
  if (!url) return '(native)'
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m) return m[1]!
  const i = url.indexOf('/src/')
  return i >= 0 ? url.slice(i + 1) : url.startsWith('node:') ? url : basename(url)
}

for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, Node>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n)
  const self = new Map<number, number>()
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)))
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const fn = new Map<string, number>()
  const where = new Map<string, number>()
  for (const [id, t] of self) {
    const c = byId.get(id)!.callFrame
    // An anonymous function is named after its nearest named caller.
    let up = parent.get(id)
    while (up && !up.callFrame.functionName) up = parent.get(up.id)
    const name = c.functionName || (up && c.url ? `(anonymous, in ${up.callFrame.functionName} ${short(up.callFrame.url)})` : '(anonymous)')
    const key = c.url ? `${name} ${short(c.url)}` : name
    fn.set(key, (fn.get(key) ?? 0) + t)
    const w = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : short(c.url)
    where.set(w, (where.get(w) ?? 0) + t)
  }
  const pct = (t: number) => `${((t / total) * 100).toFixed(1).padStart(5)}%`
  console.log(`\n== ${basename(file)}: ${(total / 1e6).toFixed(1)} s sampled`)
  console.log('-- by file / package (self time)')
  for (const [k, t] of [...where].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(t)}  ${k}`)
  console.log('-- by function (self time)')
  for (const [k, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`)
}

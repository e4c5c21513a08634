/**
 * Multi-host: 6 `quorumnet node` processes, each in its own network namespace (its own host, IP
 * 10.77.0.<i>), joined through links that delay every packet by 50 ms +- 10 ms and drop 2% of them.
 * Nodes find each other from one bootstrapper, then every node's chat line must reach every other
 * node. The links are `tc netem` on veth pairs into a bridge when the kernel has sch_netem; without it,
 * the same delay and loss are applied by a userspace switch over TUN devices (`impair.py`). Needs root
 * and `ip netns`; skipped with the reason otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, describe, expect, it } from 'vitest'
import { Ed25519 } from '../../src/crypto/index.js'
import { built, startCli, type Cli } from '../helpers/cli.js'

const N = 6
const DELAY_MS = 50
const JITTER_MS = 10
const LOSS = 0.02
const tag = `qn${process.pid % 100000}`
const ns = (i: number) => `${tag}-${i}`
const hub = `${tag}-hub`
const ip = (i: number) => `10.77.0.${i}`
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' })
function sh(cmd: string, args: string[]): void {
  const r = run(cmd, args)
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`)
}

/** netem if the kernel has it, the TUN switch if it does not, or why neither can run. */
function linkMode(): { mode: 'netem' | 'tun' } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'needs root to create network namespaces' }
  if (run('ip', ['netns', 'list']).status !== 0) return { skip: '`ip netns` is missing (install iproute2)' }
  const probe = `${tag}-probe`
  if (run('ip', ['netns', 'add', probe]).status !== 0) return { skip: 'cannot create a network namespace here' }
  const netem = run('ip', ['netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']).status === 0
  run('ip', ['netns', 'del', probe])
  if (netem) return { mode: 'netem' }
  if (run('python3', ['--version']).status === 0 && existsSync('/dev/net/tun')) return { mode: 'tun' }
  return { skip: 'the kernel has no sch_netem, and python3 or /dev/net/tun for the userspace switch is missing' }
}

const env = built ? linkMode() : { skip: 'dist/ is not built (npm install builds it)' }
const skip = 'skip' in env ? env.skip : undefined
if (skip) console.warn(`multi-host test skipped: ${skip}`)

const nodes: Cli[] = []
let impair: ChildProcess | undefined

function setUp(mode: 'netem' | 'tun'): Promise<void> {
  for (let i = 1; i <= N; i++) {
    sh('ip', ['netns', 'add', ns(i)])
    sh('ip', ['-n', ns(i), 'link', 'set', 'lo', 'up'])
  }
  if (mode === 'netem') {
    sh('ip', ['netns', 'add', hub])
    sh('ip', ['-n', hub, 'link', 'add', 'br0', 'type', 'bridge'])
    sh('ip', ['-n', hub, 'link', 'set', 'br0', 'up'])
    for (let i = 1; i <= N; i++) {
      sh('ip', ['link', 'add', 'eth0', 'netns', ns(i), 'type', 'veth', 'peer', 'name', `v${i}`, 'netns', hub])
      sh('ip', ['-n', ns(i), 'addr', 'add', `${ip(i)}/24`, 'dev', 'eth0'])
      sh('ip', ['-n', ns(i), 'link', 'set', 'eth0', 'up'])
      sh('ip', ['-n', hub, 'link', 'set', `v${i}`, 'master', 'br0'])
      sh('ip', ['-n', hub, 'link', 'set', `v${i}`, 'up'])
      sh('ip', ['netns', 'exec', ns(i), 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', `${DELAY_MS}ms`, `${JITTER_MS}ms`, 'loss', `${LOSS * 100}%`])
    }
    return Promise.resolve()
  }
  for (let i = 1; i <= N; i++) {
    sh('ip', ['-n', ns(i), 'tuntap', 'add', 'dev', 'tun0', 'mode', 'tun'])
    sh('ip', ['-n', ns(i), 'addr', 'add', `${ip(i)}/24`, 'dev', 'tun0'])
    sh('ip', ['-n', ns(i), 'link', 'set', 'tun0', 'up'])
  }
  const args = [join(import.meta.dirname, 'impair.py'), String(DELAY_MS), String(JITTER_MS), String(LOSS), '7', ...Array.from({ length: N }, (_, k) => `${ns(k + 1)}=${k + 1}`)]
  impair = spawn('python3', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  impair.stderr!.on('data', (d: Buffer) => (impairStats = d.toString().trim().split('\n').pop() ?? impairStats))
  return new Promise((resolve, reject) => {
    createInterface({ input: impair!.stdout! }).once('line', (l) => (l === 'ready' ? resolve() : reject(new Error(l))))
    impair!.once('exit', (code) => reject(new Error(`impair.py exited with ${code}: ${impairStats}`)))
  })
}
let impairStats = ''

afterAll(async () => {
  for (const n of nodes) n.proc.kill('SIGKILL')
  impair?.kill('SIGKILL')
  for (let i = 1; i <= N; i++) run('ip', ['netns', 'del', ns(i)])
  run('ip', ['netns', 'del', hub])
})

describe('multi-host over network namespaces', () => {
  it.skipIf(skip !== undefined)(`6 hosts, ${DELAY_MS} ms +- ${JITTER_MS} ms and ${LOSS * 100}% loss per hop: discovery from one bootstrapper and all-pairs delivery${skip ? ` (skipped: ${skip})` : ''}`, async () => {
    const mode = (env as { mode: 'netem' | 'tun' }).mode
    await setUp(mode)
    const signers = Array.from({ length: N }, (_, k) => Ed25519.fromSeed(8000 + k))
    const dir = mkdtempSync(join(tmpdir(), 'quorumnet-netns-'))
    const t0 = performance.now()
    for (let i = 1; i <= N; i++) {
      const cfg = {
        privateKey: hex(signers[i - 1]!.privateKey()),
        namespace: 'quorumnet-multihost',
        listen: `${ip(i)}:4000`,
        bootstrappers: i === 1 ? [] : [{ publicKey: hex(signers[0]!.publicKey), address: `${ip(1)}:4000` }],
        peerSets: [{ index: 0, peers: signers.map((s) => hex(s.publicKey)) }],
        preset: 'test',
      }
      const file = join(dir, `node-${i}.json`)
      writeFileSync(file, JSON.stringify(cfg))
      nodes.push(startCli(['node', '--config', file], {}, ['ip', 'netns', 'exec', ns(i)]))
    }
    const peersOf = (c: Cli) => Math.max(0, ...c.logs.filter((l) => l.msg === 'peer_connected').map((l) => Number(l.connected)))
    await Promise.all(nodes.map((c) => c.until((x) => peersOf(x) >= N - 1)))
    const discoveredMs = performance.now() - t0

    nodes.forEach((c, k) => c.proc.stdin.write(`hello from host ${k + 1}\n`))
    const heard = (c: Cli) => new Set(c.stdout.map((l) => /: hello from host (\d)$/.exec(l)?.[1]).filter(Boolean)).size
    await Promise.all(nodes.map((c) => c.until((x) => heard(x) >= N - 1)))
    const deliveredMs = performance.now() - t0 - discoveredMs
    console.log(`multi-host (${mode}): discovery in ${(discoveredMs / 1000).toFixed(1)} s, all-pairs delivery ${deliveredMs.toFixed(0)} ms later; ${impairStats}`)

    nodes.forEach((c, k) => expect(heard(c), `host ${k + 1}`).toBe(N - 1))
    for (const c of nodes) c.proc.kill('SIGTERM')
    expect(await Promise.all(nodes.map((c) => c.exited))).toEqual(Array(N).fill(0))
  }, 120_000)
})

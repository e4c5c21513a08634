/**
 * The Rust reference: commonware-p2p 0.0.25's authenticated network (interop/src/bin/p2p_node.rs,
 * built by `cargo build --profile interop --locked -p quorumnet-interop --bins`), one node per
 * process, driven by JSON lines through its benchmark mode (`--bench ID:sink|echo|ping`,
 * `bench_flood`, `bench_ping`, `bench_mark`, `bench_stop`). Its runtime is tokio with 2 worker
 * threads per process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { CLIENT_SEED, FANOUT_PEERS, freePort, MAX_MESSAGE, SCENARIOS, SERVER_SEED, type Mark, type SocketScenario } from './common.js'

export const P2P_NODE = join(import.meta.dirname, '..', '..', 'target', 'interop', 'p2p_node')

/** Why the Rust reference cannot run this scenario, or undefined if it can. */
export function rustUnavailable(scenario: SocketScenario): string | undefined {
  if (!existsSync(P2P_NODE)) return `${P2P_NODE} not built (cargo build --profile interop --locked -p quorumnet-interop --bins)`
  if (scenario === 'conns') return "p2p_node's network dials on its own schedule: it has no dial-then-close command"
  if (scenario === 'vote') return 'p2p_node has no mode with two dialing identities of different roles'
  return undefined
}

type Event = Record<string, unknown>

class RustNode {
  readonly proc: ChildProcessWithoutNullStreams
  readonly #events: Event[] = []
  readonly #waiters: { match: (e: Event) => boolean; resolve: (e: Event) => void; reject: (e: Error) => void }[] = []
  #req = 0
  #stderr = ''

  constructor(args: string[]) {
    this.proc = spawn(P2P_NODE, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    this.proc.stderr.on('data', (d: Buffer) => (this.#stderr = (this.#stderr + d.toString()).slice(-2000)))
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as Event
      if (e.event === 'error') for (const w of this.#waiters.splice(0)) w.reject(new Error(`p2p_node: ${String(e.error)}`))
      const i = this.#waiters.findIndex((w) => w.match(e))
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(e)
      else this.#events.push(e)
    })
    this.proc.on('exit', (code) => {
      for (const w of this.#waiters.splice(0)) w.reject(new Error(`p2p_node exited (${code}); stderr: ${this.#stderr}`))
    })
  }

  wait(match: (e: Event) => boolean, timeoutMs = 60_000): Promise<Event> {
    const i = this.#events.findIndex(match)
    if (i >= 0) return Promise.resolve(this.#events.splice(i, 1)[0]!)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`p2p_node: no answer within ${timeoutMs} ms`)), timeoutMs)
      this.#waiters.push({
        match,
        resolve: (e) => (clearTimeout(timer), resolve(e)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      })
    })
  }

  /** Send a command and wait for the event of `kind` answering it. */
  request(cmd: Event, kind: string, timeoutMs?: number): Promise<Event> {
    const req = ++this.#req
    this.proc.stdin.write(JSON.stringify({ ...cmd, req }) + '\n')
    return this.wait((e) => e.event === kind && e.req === req, timeoutMs)
  }

  async mark(): Promise<Mark> {
    const e = await this.request({ cmd: 'bench_mark' }, 'bench_mark')
    return { t: e.t_ms as number, count: e.count as number, bytes: e.bytes as number, latencies: e.latencies_us as number[] }
  }

  kill(): void {
    this.proc.stdin.end()
    this.proc.kill()
  }
}

const keyOf = async (n: RustNode) => (await n.wait((e) => e.event === 'ready')).public_key as string

/**
 * Start the nodes of `scenario`; returns how to start the load, the counting nodes and a cleanup.
 * Rust always runs one node per process (there is no one-process variant).
 */
export async function rustSession(scenario: SocketScenario): Promise<{ start(): Promise<void>; counters: RustNode[]; stop(): Promise<void> }> {
  const spec = SCENARIOS[scenario]
  const rtt = !spec.higherIsBetter
  // Nagle's algorithm off, as quorumnet's NodeContext and the other candidates have it.
  const common = ['--max-message-size', String(MAX_MESSAGE + 1024), '--channel', '0:1000000000:1024:none', '--tcp-nodelay', 'true']
  const nodes: RustNode[] = []
  const node = (args: string[]) => {
    const n = new RustNode([...common, ...args])
    nodes.push(n)
    return n
  }
  try {
    const listeners = scenario === 'fanout' ? FANOUT_PEERS : 1
    const serverMode = rtt ? 'echo' : 'sink'
    const servers: { node: RustNode; key: string; addr: string; seed: number }[] = []
    for (let i = 0; i < listeners; i++) {
      const seed = SERVER_SEED + i
      const addr = `127.0.0.1:${await freePort()}`
      const n = node(['--seed', String(seed), '--listen', addr, '--peer-set', `0:${seed},${CLIENT_SEED}`, '--bench', `0:${serverMode}`])
      servers.push({ node: n, key: await keyOf(n), addr, seed })
    }
    const client = node([
      '--seed', String(CLIENT_SEED),
      '--listen', `127.0.0.1:${await freePort()}`,
      '--peer-set', `0:${[CLIENT_SEED, ...servers.map((s) => s.seed)].join(',')}`,
      ...servers.flatMap((s) => ['--bootstrapper', `${s.seed}@${s.addr}`]),
      ...(rtt ? ['--bench', '0:ping'] : []),
    ])
    await keyOf(client)
    return {
      start: async () => {
        const cmd = rtt ? 'bench_ping' : 'bench_flood'
        const to = scenario === 'fanout' ? 'all' : [servers[0]!.key]
        await client.request({ cmd, channel: 0, to, size: spec.size, until: servers.length }, 'bench_started')
      },
      counters: spec.counter === 'client' ? [client] : servers.map((s) => s.node),
      stop: async () => {
        await client.request({ cmd: 'bench_stop' }, 'bench_stopped', 5_000).catch(() => undefined)
        for (const n of nodes) n.kill()
      },
    }
  } catch (e) {
    for (const n of nodes) n.kill()
    throw e
  }
}

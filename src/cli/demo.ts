/**
 * `quorumnet demo`: a local network on loopback, shown live, with a pass/fail summary.
 *
 * ## Design
 * N nodes (default 4) run in this process, each on its own `NodeContext` (own metrics registry) and
 * its own loopback port, with the `test` preset's timing. Only node 0 is a bootstrapper; the others
 * find each other through discovery (bit vectors and signed peer records). Two channels:
 * - `ping` (0): every 200 ms each node pings every peer; the peer answers at priority; the round trip
 *   is measured with the process's monotonic clock;
 * - `gossip` (1, zstd level 3): every 20 ms each node broadcasts a 1 KiB record.
 * A node has *reached* a peer once it got that peer's gossip and a pong from it. The view is redrawn
 * every second; at the end a summary is printed and the exit code is 0 only if every node reached
 * every other node. Keys come from `--seed` (node i uses seed + i), so runs are repeatable by identity.
 *
 * ## Not provided
 * A benchmark: the demo's rates are fixed by its timers. Use `npm run bench` for throughput figures.
 *
 * ## Example
 * ```sh
 * npx quorumnet demo --nodes 4 --seconds 10
 * ```
 */
import { performance } from 'node:perf_hooks'
import { Config } from '../authenticated/config.js'
import { Network, type NetworkHandle } from '../authenticated/network.js'
import { Recipients, type Receiver, type Sender } from '../authenticated/types.js'
import { Ed25519 } from '../crypto/index.js'
import { backend } from '../native/load.js'
import { freePort, NodeContext } from '../runtime/node.js'
import { Quota } from '../utils/quota.js'
import { intFlag, parseFlags } from './args.js'
import { hex } from './keys.js'
import { LiveView, rate, renderTable, type NodeRow } from './view.js'

export const DEMO_USAGE = `usage: quorumnet demo [--nodes 4] [--seconds 20] [--seed N] [--base-port P]

Starts N nodes on 127.0.0.1 that discover each other from one bootstrapper and exchange pings and
gossip on two channels, with a live view. Exits 0 only if every node reached every other node.
  --nodes N       nodes to run, 2..32 (default 4)
  --seconds S     how long to run, 1..3600 (default 20)
  --seed N        node i's key is Ed25519.fromSeed(N + i) (default: random)
  --base-port P   listen on P, P+1, ... (default: free ports chosen by the OS)`

const PING = 0
const GOSSIP = 1
const PING_EVERY_MS = 200
const GOSSIP_EVERY_MS = 20
const GOSSIP_BYTES = 1024
const RTT_SAMPLES = 512

/** One demo node and what it has measured. */
class DemoNode {
  readonly ctx = new NodeContext()
  readonly key: string
  readonly network: Network
  readonly ping: [Sender, Receiver]
  readonly gossip: [Sender, Receiver]
  handle: NetworkHandle | undefined
  readonly gossipFrom = new Set<string>()
  readonly pongFrom = new Set<string>()
  readonly rtts: number[] = []
  msgsIn = 0
  bytesIn = 0
  msgsOut = 0

  constructor(
    readonly index: number,
    readonly signer: Ed25519,
    readonly address: string,
    bootstrappers: { publicKey: Uint8Array; address: string }[],
    peers: Uint8Array[],
  ) {
    this.key = hex(signer.publicKey)
    const cfg = Config.test(signer, new TextEncoder().encode('quorumnet-demo'), address, bootstrappers, 64 << 10)
    const { network, oracle } = Network.create(this.ctx, cfg)
    oracle.register(0n, peers)
    this.network = network
    this.ping = network.register(PING, Quota.perSecond(1_000), 1_024)
    this.gossip = network.register(GOSSIP, Quota.perSecond(5_000), 4_096, 3)
  }

  reached(): number {
    let n = 0
    for (const k of this.gossipFrom) if (this.pongFrom.has(k)) n++
    return n
  }

  rtt(q: number): number | undefined {
    if (this.rtts.length === 0) return undefined
    const sorted = [...this.rtts].sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  }

  start(signal: AbortSignal): Promise<unknown>[] {
    this.handle = this.network.start()
    const [pingTx, pingRx] = this.ping
    const [gossipTx, gossipRx] = this.gossip
    const sleep = (ms: number) => this.ctx.sleep(ms, signal)
    const ignoreAbort = (p: Promise<void>) => p.catch((e: unknown) => (signal.aborted ? undefined : Promise.reject(e)))
    const record = (from: Uint8Array, msg: Uint8Array) => {
      this.msgsIn++
      this.bytesIn += msg.length
      return hex(from)
    }
    return [
      this.handle.listening,
      ignoreAbort(
        (async () => {
          for (;;) {
            const ping = new Uint8Array(9)
            ping[0] = 0
            new DataView(ping.buffer).setFloat64(1, performance.now())
            this.msgsOut += (await pingTx.send(Recipients.all(), ping)).length
            await sleep(PING_EVERY_MS)
          }
        })(),
      ),
      ignoreAbort(
        (async () => {
          for (let height = 0; ; height++) {
            this.msgsOut += (await gossipTx.send(Recipients.all(), gossipRecord(this.index, height))).length
            await sleep(GOSSIP_EVERY_MS)
          }
        })(),
      ),
      (async () => {
        for await (const [from, msg] of pingRx) {
          const who = record(from, msg)
          if (msg.length !== 9) continue
          if (msg[0] === 0) {
            const pong = Uint8Array.from(msg)
            pong[0] = 1
            await pingTx.send(Recipients.one(from), pong, true)
          } else {
            this.pongFrom.add(who)
            this.rtts.push(performance.now() - new DataView(msg.buffer, msg.byteOffset).getFloat64(1))
            if (this.rtts.length > RTT_SAMPLES) this.rtts.shift()
          }
        }
      })(),
      (async () => {
        for await (const [from, msg] of gossipRx) this.gossipFrom.add(record(from, msg))
      })(),
    ]
  }
}

/** A 1 KiB gossip record: a small header and compressible filler, as consensus messages often are. */
function gossipRecord(node: number, height: number): Uint8Array {
  const head = JSON.stringify({ node, height, kind: 'vote' })
  return new TextEncoder().encode(head.padEnd(GOSSIP_BYTES, ' .'))
}

async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < n) ports.add(await freePort())
  return [...ports]
}

/** What the demo needs from the process (tests pass their own). */
export interface DemoIo {
  stdout: { write(s: string): unknown; isTTY?: boolean }
  onSignal(handler: (signal: string) => void): void
}

export async function runDemo(argv: string[], io: DemoIo): Promise<number> {
  const flags = parseFlags(argv, { nodes: { type: 'string', short: 'n' }, seconds: { type: 'string', short: 's' }, seed: { type: 'string' }, 'base-port': { type: 'string' } })
  if (flags.help) {
    io.stdout.write(DEMO_USAGE + '\n')
    return 0
  }
  const count = intFlag(flags, 'nodes', 4, 2, 32)
  const seconds = intFlag(flags, 'seconds', 20, 1, 3600)
  const clock = new NodeContext()
  const seed = intFlag(flags, 'seed', clock.randomInt(1_000_000), 0, Number.MAX_SAFE_INTEGER - 64)
  const basePort = intFlag(flags, 'base-port', 0, 1, 65535 - count)
  const ports = basePort > 0 ? Array.from({ length: count }, (_, i) => basePort + i) : await freePorts(count)

  const signers = Array.from({ length: count }, (_, i) => Ed25519.fromSeed(seed + i))
  const keys = signers.map((s) => s.publicKey)
  const addresses = ports.map((p) => `127.0.0.1:${p}`)
  const boot = [{ publicKey: keys[0]!, address: addresses[0]! }]
  const nodes = signers.map((s, i) => new DemoNode(i, s, addresses[i]!, i === 0 ? [] : boot, keys))

  const out = io.stdout
  out.write(`quorumnet demo: ${count} nodes on 127.0.0.1 (ports ${ports.join(", ")}), seed ${seed}, backend ${backend}, ${seconds} s\n`)
  out.write(`node 0 is the only bootstrapper; the others find each other by discovery\n\n`)

  const stop = new AbortController()
  let interrupted: string | undefined
  io.onSignal((signal) => {
    interrupted = signal
    stop.abort(new Error(signal))
  })
  const running = nodes.flatMap((n) => n.start(stop.signal))
  const started = clock.now()
  const listening = await Promise.allSettled(nodes.map((n) => n.handle!.listening))
  const failed = listening.findIndex((r) => r.status === 'rejected')
  if (failed >= 0) {
    stop.abort(new Error('listen failed'))
    await Promise.all(nodes.map((n) => n.handle!.stop()))
    const reason = (listening[failed] as PromiseRejectedResult).reason as Error
    out.write(`quorumnet: node ${failed} cannot listen on ${addresses[failed]}: ${reason.message.replace(/^listen \S+: /, '')}\n`)
    return 1
  }

  const view = new LiveView(out, io.stdout.isTTY === true)
  let last = nodes.map((n) => ({ msgs: n.msgsIn, bytes: n.bytesIn }))
  let lastAt = performance.now()
  const rows = (): NodeRow[] => {
    const now = performance.now()
    const dt = Math.max(1e-3, (now - lastAt) / 1000)
    const r = nodes.map((n, i) => ({
      index: n.index,
      key: n.key,
      peers: n.network.connected().length,
      reached: n.reached(),
      of: count - 1,
      msgsInPerSec: (n.msgsIn - last[i]!.msgs) / dt,
      bytesInPerSec: (n.bytesIn - last[i]!.bytes) / dt,
      rttP50Ms: n.rtt(0.5),
      rttP99Ms: n.rtt(0.99),
    }))
    last = nodes.map((n) => ({ msgs: n.msgsIn, bytes: n.bytesIn }))
    lastAt = now
    return r
  }
  while (!stop.signal.aborted && clock.now() - started < seconds * 1000) {
    await clock.sleep(Math.min(1000, seconds * 1000 - (clock.now() - started)), stop.signal).catch(() => undefined)
    const elapsed = ((clock.now() - started) / 1000).toFixed(0)
    view.draw([`${elapsed} s / ${seconds} s   backend ${backend}`, ...renderTable(rows())])
  }
  const elapsedSec = (clock.now() - started) / 1000
  stop.abort(new Error('demo over'))
  await Promise.all(nodes.map((n) => n.handle!.stop()))
  await Promise.allSettled(running)

  out.write(`\nsummary after ${elapsedSec.toFixed(1)} s${interrupted ? ` (interrupted by ${interrupted})` : ''}, backend ${backend}\n`)
  for (const n of nodes) {
    out.write(
      `  node ${n.index} ${n.key.slice(0, 8)}: reached ${n.reached()}/${count - 1}, sent ${n.msgsOut} msgs, received ${n.msgsIn} msgs (${rate(n.bytesIn / elapsedSec)}), rtt p50 ${fmt(n.rtt(0.5))} p99 ${fmt(n.rtt(0.99))}\n`,
    )
  }
  const missing = nodes.flatMap((n) => nodes.filter((m) => m !== n && !(n.gossipFrom.has(m.key) && n.pongFrom.has(m.key))).map((m) => `${n.index}<-${m.index}`))
  const pairs = count * (count - 1)
  if (missing.length === 0) {
    out.write(`result: OK, every node reached every other node (${pairs}/${pairs} pairs)\n`)
    return 0
  }
  out.write(`result: FAILED, ${pairs - missing.length}/${pairs} pairs reached; never heard (receiver<-sender): ${missing.join(' ')}\n`)
  return 1
}

const fmt = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(2)} ms`)

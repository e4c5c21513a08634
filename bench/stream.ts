/**
 * stream::throughput / stream::rate: two endpoints in one process over real loopback TCP.
 *
 * Candidates: the encrypted stream on the addon and on the fallback; baseline: raw node:net with a
 * 4-byte length prefix (no encryption, the ceiling). Each figure is the median of REPS timed runs
 * after a warm-up; ratios compare figures of this run only.
 */
import { createServer, connect, type Socket } from 'node:net'
import { Ed25519 } from '../src/crypto/index.js'
import type { Binding } from '../src/native/binding.js'
import { NodeContext } from '../src/runtime/index.js'
import { StreamConfig, upgradeDialer, upgradeListener, verifyIncoming, type EncryptedConnection } from '../src/stream/index.js'
import { backends } from './util.js'

const REPS = Number(process.env.BENCH_REPS ?? 5)
const NS = new TextEncoder().encode('bench_STREAM')
const MAX = (1 << 20) + 64

interface Pair {
  send(msg: Uint8Array): Promise<void>
  recv(): Promise<number>
  close(): void
}

async function streamPair(b: Binding): Promise<Pair> {
  const ctx = new NodeContext()
  const l = await ctx.listen('127.0.0.1:0')
  const cfg = (seed: number): StreamConfig => ({ ...StreamConfig.recommended(Ed25519.fromSeed(seed), NS, MAX), backend: b })
  const accepted = (async () => upgradeListener(ctx, await verifyIncoming(ctx, cfg(1), (await l.accept())!)))()
  const tx: EncryptedConnection = await upgradeDialer(ctx, cfg(0), await ctx.dial(l.address), Ed25519.fromSeed(1).publicKey)
  const rx = await accepted
  l.close()
  return { send: (m) => tx.send(m), recv: async () => (await rx.recv()).length, close: () => (tx.close(), rx.close()) }
}

/** Raw TCP with a u32 length prefix: the ceiling. */
async function rawPair(): Promise<Pair> {
  const server = createServer({ noDelay: true })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  const accepted = new Promise<Socket>((r) => server.once('connection', r))
  const client = connect({ port, host: '127.0.0.1', noDelay: true })
  await new Promise((r) => client.once('connect', r))
  const sock = await accepted
  server.close()
  let buf: Buffer = Buffer.alloc(0)
  const ready: number[] = []
  let wake: (() => void) | undefined
  sock.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0)
      if (buf.length < 4 + len) break
      ready.push(len)
      buf = buf.subarray(4 + len)
    }
    wake?.()
  })
  return {
    send: (m) =>
      new Promise((resolve) => {
        const p = Buffer.alloc(4)
        p.writeUInt32BE(m.length)
        client.write(p)
        if (client.write(m)) resolve()
        else client.once('drain', resolve)
      }),
    recv: async () => {
      while (ready.length === 0) await new Promise<void>((r) => (wake = r))
      return ready.shift()!
    },
    close: () => (client.destroy(), sock.destroy()),
  }
}

/** Send `count` messages of `size` (at most `window` unacknowledged) and time their arrival. */
async function run(pair: Pair, size: number, count: number, window: number): Promise<number> {
  const msg = new Uint8Array(size).fill(7)
  const t0 = performance.now()
  const receiving = (async () => {
    for (let i = 0; i < count; i++) await pair.recv()
  })()
  for (let i = 0; i < count; i += window) {
    const n = Math.min(window, count - i)
    await Promise.all(Array.from({ length: n }, () => pair.send(msg)))
  }
  await receiving
  return (performance.now() - t0) / 1000
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!


export async function runStream(): Promise<Record<string, unknown>[]> {
  const scenarios = [
    { name: 'throughput', size: 1 << 20, count: 64, window: 8, unit: 'MB/s', figure: (s: number) => (64 * (1 << 20)) / s / 1e6 },
    { name: 'rate', size: 100, count: 50_000, window: 1_000, unit: 'msgs/s', figure: (s: number) => 50_000 / s },
  ]
  const rows: Record<string, unknown>[] = []
  for (const sc of scenarios) {
    const results: { who: string; value: number; spread: string }[] = []
    const candidates: [string, () => Promise<Pair>][] = [
      ['raw-tcp', rawPair],
      ...backends.map(({ name, b }) => [`stream-${name}`, () => streamPair(b)] as [string, () => Promise<Pair>]),
    ]
    for (const [who, make] of candidates) {
      const pair = await make()
      await run(pair, sc.size, Math.ceil(sc.count / 10), sc.window) // warm-up
      const values: number[] = []
      for (let r = 0; r < REPS; r++) values.push(sc.figure(await run(pair, sc.size, sc.count, sc.window)))
      pair.close()
      results.push({ who, value: median(values), spread: `${Math.min(...values).toFixed(0)}..${Math.max(...values).toFixed(0)}` })
    }
    const raw = results.find((r) => r.who === 'raw-tcp')!.value
    const js = results.find((r) => r.who === 'stream-js')?.value
    for (const r of results) {
      rows.push({ scenario: `stream::${sc.name}/size=${sc.size}`, candidate: r.who, [sc.unit]: r.value.toFixed(sc.unit === 'MB/s' ? 1 : 0), 'min..max': r.spread, 'x raw-tcp': (r.value / raw).toFixed(2), 'x stream-js': js ? (r.value / js).toFixed(2) : '' })
    }
  }
  console.log('\n## stream over loopback TCP (one process; median of runs)')
  console.table(rows)
  return rows
}

export { runStream as run }

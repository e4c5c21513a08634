/**
 * The soak scenario: N nodes on 127.0.0.1 exchange messages of random sizes and priorities on three
 * channels (one compressed) while some nodes are stopped and restarted at random. Nodes 0..stable-1
 * are never restarted, so every connection among them stays up for the whole run: each message queued
 * between two of them must arrive exactly once and in order within its priority class, and the counts
 * must match both nodes' metrics. Messages to or from restarted nodes may be lost with their
 * connection, but never duplicated or altered. Random choices come from `seed`; timing is real.
 */
import { Registry } from 'prom-client'
import { Config, Network, Quota, Recipients, type Receiver, type Sender } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { NodeContext } from '../../src/runtime/index.js'
import { SeededRng } from '../../src/runtime/rng.js'
import { freePort } from '../helpers/rust-peer.js'

export interface SoakOptions {
  nodes: number
  /** Nodes 0..stable-1 are never restarted. */
  stable: number
  /** Messages to queue in total (a broadcast to k peers counts k). */
  messages: number
  /** Restarts to perform, spread over the run. */
  restarts: number
  seed: number
  /** Progress lines (npm run soak prints them). */
  log?: (line: string) => void
}

export interface PairCheck {
  from: number
  to: number
  channel: number
  queued: number
  received: number
  outOfOrder: number
  /** Sender's messages_sent and receiver's messages_received for this pair and channel. */
  metricSent: number
  metricReceived: number
}

export interface SoakReport {
  queued: number
  received: number
  restarts: number
  /** Messages to or from restarted nodes that were lost with their connection. */
  lostWithConnection: number
  duplicates: number
  corrupt: number
  stablePairs: PairCheck[]
  seconds: number
}

const NS = new TextEncoder().encode('quorumnet-soak')
const CHANNELS = [0, 1, 2]
const HEADER = 16 // from u8, channel u8, priority u8, pad u8, id u64 (as two u32), check u32

interface Live {
  index: number
  incarnation: number
  ctx: NodeContext
  network: Network
  channels: [Sender, Receiver][]
  stop: () => Promise<void>
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** A cheap content check so altered bytes are caught: sum of the body, mod 2^32. */
function checksum(body: Uint8Array): number {
  let s = 0
  for (let i = 0; i < body.length; i++) s = (s * 31 + body[i]!) >>> 0
  return s
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => undefined)
  const rng = new SeededRng(BigInt(o.seed))
  const signers = Array.from({ length: o.nodes }, (_, i) => Ed25519.fromSeed(7000 + i))
  const keys = signers.map((s) => s.publicKey)
  const keyIndex = new Map(keys.map((k, i) => [hex(k), i]))
  const ports = await Promise.all(signers.map(() => freePort()))
  const addr = (i: number) => `127.0.0.1:${ports[i]}`
  const stable = (i: number) => i < o.stable
  const started = performance.now()

  // Sender side: ids queued per (from, to, channel) for stable pairs; counts for the rest.
  const queuedIds = new Map<string, number[]>()
  let queued = 0
  const queuedTo = new Map<string, number>() // `${from}:${to}` -> count, every pair
  // Receiver side.
  const seen = new Map<string, Set<number>>() // `${from}:${to}:${channel}` -> ids
  const lastId = new Map<string, number>() // `${from}:${to}:${channel}:${priority}` -> last id
  let received = 0
  let duplicates = 0
  let corrupt = 0
  let outOfOrder = 0
  const outOfOrderBy = new Map<string, number>()
  let progress: (() => void) | undefined

  const live: (Live | undefined)[] = new Array(o.nodes)
  let stopping = false
  let chaosOver = o.restarts === 0
  /** Senders stop once enough is queued and every restart has happened (so both hold at the end). */
  const done = () => queued >= o.messages && chaosOver

  const start = (i: number, incarnation: number): Live => {
    const ctx = new NodeContext({ registry: new Registry() })
    const boot = i === 0 ? [{ publicKey: keys[1]!, address: addr(1) }] : [{ publicKey: keys[0]!, address: addr(0) }]
    const { network, oracle } = Network.create(ctx, Config.test(signers[i]!, NS, addr(i), boot, 1 << 16))
    oracle.register(0n, keys)
    const channels = CHANNELS.map((c) => network.register(c, Quota.perSecond(1_000_000), 8192, c === 1 ? 3 : undefined))
    const handle = network.start()
    const node: Live = { index: i, incarnation, ctx, network, channels, stop: () => handle.stop() }
    for (const c of CHANNELS) void receive(node, c)
    return node
  }

  const receive = async (node: Live, channel: number) => {
    const [, receiver] = node.channels[channel]!
    for await (const [fromKey, msg] of receiver) {
      const from = keyIndex.get(hex(fromKey))!
      const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength)
      if (msg.length < HEADER || msg[0] !== from || msg[1] !== channel || view.getUint32(12) !== checksum(msg.subarray(HEADER))) {
        corrupt++
        continue
      }
      const id = view.getUint32(4) * 2 ** 32 + view.getUint32(8)
      const pair = `${from}:${node.index}:${channel}`
      let ids = seen.get(pair)
      if (!ids) seen.set(pair, (ids = new Set()))
      if (ids.has(id)) duplicates++
      ids.add(id)
      const cls = `${pair}:${msg[2]}`
      if ((lastId.get(cls) ?? -1) >= id) {
        outOfOrder++
        outOfOrderBy.set(pair, (outOfOrderBy.get(pair) ?? 0) + 1)
      }
      lastId.set(cls, id)
      received++
      progress?.()
    }
  }

  const send = async (i: number) => {
    let counter = 0
    while (!stopping) {
      const node = live[i]
      const connected = node?.network.connected() ?? []
      if (!node || connected.length === 0) {
        await new NodeContext().sleep(5)
        continue
      }
      for (let burst = 0; burst < 32 && !done() && !stopping; burst++) {
        const channel = CHANNELS[rng.int(3)]!
        const priority = rng.int(10) === 0
        const big = rng.int(50) === 0
        const size = HEADER + (big ? 8192 + rng.int(24_576) : rng.int(2048))
        const msg = new Uint8Array(size)
        msg.set(rng.bytes(Math.min(64, size - HEADER)), HEADER)
        const id = node.incarnation * 2 ** 32 + counter++
        const view = new DataView(msg.buffer)
        msg[0] = i
        msg[1] = channel
        msg[2] = priority ? 1 : 0
        view.setUint32(4, Math.floor(id / 2 ** 32))
        view.setUint32(8, id % 2 ** 32)
        view.setUint32(12, checksum(msg.subarray(HEADER)))
        const recipients = rng.int(10) === 0 ? Recipients.all() : Recipients.one(connected[rng.int(connected.length)]!)
        let to: Uint8Array[]
        try {
          to = await node.channels[channel]![0].send(recipients, msg, priority)
        } catch {
          continue // the node was stopped under us
        }
        for (const k of to) {
          const j = keyIndex.get(hex(k))!
          queued++
          queuedTo.set(`${i}:${j}`, (queuedTo.get(`${i}:${j}`) ?? 0) + 1)
          if (stable(i) && stable(j)) {
            const pair = `${i}:${j}:${channel}`
            let ids = queuedIds.get(pair)
            if (!ids) queuedIds.set(pair, (ids = []))
            ids.push(id)
          }
        }
      }
      if (done()) return
      await new NodeContext().sleep(1) // let sockets and receivers run
    }
  }

  for (let i = 0; i < o.nodes; i++) live[i] = start(i, 0)
  await Promise.all(live.map((n) => n!.network.whenConnected(o.nodes - 1)))
  log(`soak: ${o.nodes} nodes connected; queuing ${o.messages.toLocaleString('en')} messages with ${o.restarts} restarts`)

  const senders = live.map((_, i) => send(i))
  const clock = new NodeContext()
  let restarts = 0
  const chaos = (async () => {
    const restartable = Array.from({ length: o.nodes - o.stable }, (_, k) => o.stable + k)
    while (restarts < o.restarts && restartable.length > 0) {
      await clock.sleep(50 + rng.int(250))
      const i = restartable[rng.int(restartable.length)]!
      const node = live[i]!
      live[i] = undefined
      await node.stop()
      await clock.sleep(20 + rng.int(200))
      live[i] = start(i, node.incarnation + 1)
      restarts++
      log(`soak: restarted node ${i} (restart ${restarts}), ${queued.toLocaleString('en')} queued so far`)
    }
    chaosOver = true
  })()
  await Promise.all(senders)
  stopping = true
  await chaos

  // Drain: every message between stable nodes must arrive (bounded by the caller's timeout).
  const stableQueued = () => [...queuedIds.values()].reduce((n, ids) => n + ids.length, 0)
  const stableReceived = () => [...seen.entries()].filter(([k]) => k.split(':').slice(0, 2).every((x) => stable(Number(x)))).reduce((n, [, ids]) => n + ids.size, 0)
  while (stableReceived() < stableQueued()) await new Promise<void>((r) => (progress = r))
  progress = undefined
  // Let the restarted nodes' last messages settle too: wait until nothing arrives for a while.
  for (let before = -1; before !== received; ) {
    before = received
    await clock.sleep(300)
  }

  const stablePairs: PairCheck[] = []
  for (let i = 0; i < o.stable; i++) {
    for (let j = 0; j < o.stable; j++) {
      if (i === j) continue
      for (const c of CHANNELS) {
        const ids = queuedIds.get(`${i}:${j}:${c}`) ?? []
        const got = seen.get(`${i}:${j}:${c}`) ?? new Set()
        const sentMetric = (await live[i]!.ctx.registry.getSingleMetric('messages_sent')!.get()).values.find((v) => v.labels.peer === hex(keys[j]!) && v.labels.message === String(c))?.value ?? 0
        const recvMetric = (await live[j]!.ctx.registry.getSingleMetric('messages_received')!.get()).values.find((v) => v.labels.peer === hex(keys[i]!) && v.labels.message === String(c))?.value ?? 0
        stablePairs.push({
          from: i,
          to: j,
          channel: c,
          queued: ids.length,
          received: ids.filter((id) => got.has(id)).length,
          outOfOrder: outOfOrderBy.get(`${i}:${j}:${c}`) ?? 0,
          metricSent: sentMetric,
          metricReceived: recvMetric,
        })
      }
    }
  }
  const receivedUnstable = [...seen.entries()].filter(([k]) => !k.split(':').slice(0, 2).every((x) => stable(Number(x)))).reduce((n, [, ids]) => n + ids.size, 0)
  const queuedUnstable = [...queuedTo.entries()].filter(([k]) => !k.split(':').every((x) => stable(Number(x)))).reduce((n, [, v]) => n + v, 0)
  await Promise.all(live.map((n) => n?.stop()))
  return {
    queued,
    received,
    restarts,
    lostWithConnection: queuedUnstable - receivedUnstable,
    duplicates,
    corrupt,
    stablePairs,
    seconds: (performance.now() - started) / 1000,
  }
}

/** What went wrong in a soak run; empty when every promise held. */
export function problems(r: SoakReport): string[] {
  const out: string[] = []
  if (r.corrupt > 0) out.push(`${r.corrupt} messages arrived altered`)
  if (r.duplicates > 0) out.push(`${r.duplicates} messages arrived twice`)
  for (const p of r.stablePairs) {
    const where = `${p.from}->${p.to} channel ${p.channel}`
    if (p.received !== p.queued) out.push(`${where}: ${p.queued} queued, ${p.received} received`)
    if (p.outOfOrder > 0) out.push(`${where}: ${p.outOfOrder} out of order`)
    if (p.metricSent !== p.queued) out.push(`${where}: messages_sent says ${p.metricSent}, ${p.queued} queued`)
    if (p.metricReceived !== p.queued) out.push(`${where}: messages_received says ${p.metricReceived}, ${p.queued} queued`)
  }
  if (r.lostWithConnection < 0) out.push(`more messages received from restarted nodes than were queued (${-r.lostWithConnection})`)
  return out
}

/**
 * Superseding sends and handshake telemetry on real loopback sockets (both backends: the suite runs
 * under P2P_NATIVE=1 and =0): a burst of keyed updates reaches the peer as its last one, trySend into a
 * full queue still replaces its slot, and each side of a connection measures the other's clock and
 * (the dialer) the handshake round trip; an announced next set is pre-dialed before the switch.
 * Waits on events, never on a clock; bounded by the test timeout. Expiry: test/sim/supersede.test.ts,
 * and over real sockets behind a peer that does not read in test/load/backpressure.test.ts.
 */
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Config, Network, Recipients } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { NodeContext } from '../../src/runtime/index.js'
import { Quota } from '../../src/utils/quota.js'
import { freePort } from '../helpers/rust-peer.js'

const NS = new TextEncoder().encode('quorumnet-e2e-operator-send')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const text = (s: string) => new TextEncoder().encode(s)
const signers = [0, 1, 2].map((i) => Ed25519.fromSeed(300 + i))

async function nodes(count: number, sets: (i: number) => Uint8Array[][], mailboxSize = 1_000) {
  const ports = await Promise.all(signers.slice(0, count).map(() => freePort()))
  return signers.slice(0, count).map((signer, i) => {
    const ctx = new NodeContext({ registry: new Registry() })
    const boot = i === 0 ? [] : [{ publicKey: signers[0]!.publicKey, address: `127.0.0.1:${ports[0]}` }]
    const { network, oracle } = Network.create(ctx, { ...Config.test(signer, NS, `127.0.0.1:${ports[i]}`, boot, 1 << 20), mailboxSize })
    sets(i).forEach((s, index) => oracle.register(index, s))
    const [sender, receiver] = network.register(0, Quota.perSecond(10_000), 1024)
    return { ctx, network, oracle, sender, receiver, handle: network.start() }
  })
}

const counter = async (ctx: NodeContext, name: string, reason?: string) =>
  (await ctx.registry.getSingleMetric(name)!.get()).values.filter((v) => reason === undefined || v.labels.reason === reason).reduce((s, v) => s + v.value, 0)

describe('operator features over 127.0.0.1', () => {
  it('keyed updates in a burst arrive as the newest; trySend into a full queue still replaces its slot', async () => {
    const keys = signers.slice(0, 2).map((s) => s.publicKey)
    const [a, b] = await nodes(2, () => [keys], 4)
    try {
      await b!.network.whenConnected(1)
      const to = Recipients.one(keys[0]!)
      // One synchronous burst: the writer cannot take anything until it ends.
      const sent = [b!.sender.send(to, text('block 1')), ...[1, 2, 3].map((n) => b!.sender.send(to, text(`status ${n}`), { key: 'status' }))]
      const offers = [b!.sender.trySend(to, text('fill 1')), b!.sender.trySend(to, text('fill 2')), b!.sender.trySend(to, text('fill 3'))]
      const replaced = b!.sender.trySend(to, text('status 4'), { key: 'status' })
      await Promise.all(sent)
      expect(offers.map((o) => o.queued.length + 10 * o.full.length)).toEqual([1, 1, 10])
      expect(replaced.queued.map(hex)).toEqual([hex(keys[0]!)])
      await b!.sender.send(to, text('end'))
      const got: string[] = []
      for (let m = ''; m !== 'end'; ) got.push((m = new TextDecoder().decode((await a!.receiver.recv())[1])))
      expect(got).toEqual(['block 1', 'status 4', 'fill 1', 'fill 2', 'end'])
      expect(await counter(b!.ctx, 'messages_dropped', 'superseded')).toBe(3)
      expect(await counter(b!.ctx, 'messages_dropped', 'queue_full')).toBe(1)
    } finally {
      await Promise.all([a!.handle.stop(), b!.handle.stop()])
    }
  }, 30_000)

  it('both sides measure the clock skew, the dialer the round trip; an announced set is pre-dialed', async () => {
    const keys = signers.map((s) => s.publicKey)
    const epoch0 = keys.slice(0, 2)
    const [a, b, c] = await nodes(3, (i) => (i === 2 ? [] : [epoch0]))
    try {
      await Promise.all([a!.network.whenConnected(1), b!.network.whenConnected(1)])
      const atA = a!.network.handshakeTiming(keys[1]!)!
      const atB = b!.network.handshakeTiming(keys[0]!)!
      expect(Math.abs(atA.skewMs)).toBeLessThan(1_000)
      expect(atA.rttMs).toBeUndefined()
      expect(Math.abs(atB.skewMs)).toBeLessThan(1_000)
      expect(atB.rttMs).toBeGreaterThanOrEqual(0)
      const skew = (await a!.ctx.registry.getSingleMetric('peer_clock_skew_ms')!.get()).values
      expect(skew.map((v) => v.labels.peer)).toEqual([hex(keys[1]!)])
      expect(await counter(a!.ctx, 'clock_skew_warnings')).toBe(0)
      expect(a!.network.readiness()).toBeUndefined()
      a!.oracle.announce(1, keys)
      c!.oracle.announce(1, keys)
      expect(a!.network.readiness()).toBe(0.5)
      await a!.network.whenPeers(() => a!.network.readiness() === 1)
      expect(a!.network.handshakeTiming(keys[2]!)).toBeDefined()
    } finally {
      await Promise.all([a!.handle.stop(), b!.handle.stop(), c!.handle.stop()])
    }
  }, 30_000)
})

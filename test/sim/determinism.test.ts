/**
 * Replay: 20 encrypted connections with random traffic on the deterministic runtime. The same seed
 * gives the same auditor digest (every socket write and delivery, bytes included); another seed gives
 * another. Anything that escapes the runtime (wall clock, Math.random, an unseeded key) breaks this.
 * The same for the simulated network's incremental digest, under every fault it models, whatever its
 * trace keeps.
 */
import { describe, expect, it } from 'vitest'
import { Ed25519 } from '../../src/crypto/index.js'
import { DeterministicRuntime } from '../../src/runtime/index.js'
import { Recipients, SimulatedNetwork, type TraceOptions } from '../../src/simulated/index.js'
import { upgradeDialer } from '../../src/stream/index.js'
import { Quota } from '../../src/utils/quota.js'
import { config, echoServer } from '../helpers/stream.js'

async function scenario(seed: number): Promise<{ digest: string; events: number; echoed: number }> {
  const rt = new DeterministicRuntime({ seed, defaultLink: { latencyMs: 3, jitterMs: 2 } })
  const echoed = await rt.run(async (ctx) => {
    const l = await ctx.listen('127.0.0.1:9100')
    const server = echoServer(ctx, l, config(1))
    const clients = Array.from({ length: 20 }, (_, i) =>
      ctx.spawn(`client-${i}`, async () => {
        await ctx.sleep(ctx.randomInt(100))
        const conn = await upgradeDialer(ctx, config(10 + i), await rt.context(`10.0.0.${i + 1}`).dial(l.address), Ed25519.fromSeed(1).publicKey)
        let n = 0
        for (let m = 0; m < 1 + ctx.randomInt(30); m++) {
          const msg = ctx.randomBytes(ctx.randomInt(2000))
          await conn.send(msg)
          expect(Buffer.from(await conn.recv()).equals(Buffer.from(msg))).toBe(true)
          n++
          await ctx.sleep(ctx.randomInt(20))
        }
        conn.close()
        return n
      }),
    )
    const counts = await Promise.all(clients.map((c) => c.done))
    l.close()
    await server.done
    return counts.reduce((a, b) => a + b, 0)
  })
  return { digest: rt.auditor.digest(), events: rt.auditor.events, echoed }
}

describe('determinism', () => {
  it('20 connections with random traffic: same seed, same digest; another seed, another digest (seed=42)', async () => {
    const a = await scenario(42)
    const b = await scenario(42)
    const c = await scenario(43)
    expect(a.echoed).toBeGreaterThan(20)
    expect(a.events).toBeGreaterThan(100)
    expect(b).toEqual(a)
    expect(c.digest).not.toBe(a.digest)
  })
})

/** 30 simulated peers: loss, jitter, corruption, ordered links, a partition, a quota, random broadcasts. */
async function simulated(seed: number, trace: TraceOptions = {}): Promise<{ digest: string; events: number; received: number }> {
  const rt = new DeterministicRuntime({ seed, startMs: 0 })
  return rt.run(async (ctx) => {
    const { network, oracle } = SimulatedNetwork.create(ctx, { trace })
    const keys = Array.from({ length: 30 }, (_, i) => Ed25519.fromSeed(500 + i).publicKey)
    const chans = keys.map((k, i) => oracle.register(k, 0, 512, i === 3 ? Quota.perSecond(20) : undefined))
    for (const [a, ka] of keys.entries()) {
      for (const [b, kb] of keys.entries()) {
        if (a !== b) oracle.addLink(ka, kb, { latencyMs: 20 + (a % 5), jitterMs: 15, successRate: 0.9, corruptRate: 0.02, ordered: (a + b) % 3 === 0 })
      }
    }
    let received = 0
    const readers = chans.map(async ([, rx]) => {
      for await (const [, msg] of rx) received += msg.length > 0 ? 1 : 0
    })
    for (let r = 0; r < 60; r++) {
      if (r === 15) oracle.partition([keys.slice(0, 15), keys.slice(15)])
      if (r === 30) oracle.heal()
      const p = chans[ctx.randomInt(chans.length)]!
      await p[0].send(Recipients.all(), ctx.randomBytes(1 + ctx.randomInt(500)), ctx.randomInt(2) === 1).catch(() => [])
      await ctx.sleep(ctx.randomInt(25))
    }
    await ctx.sleep(5_000)
    for (const k of keys) oracle.deregister(k)
    await Promise.all(readers)
    return { digest: network.digest(), events: network.events, received }
  })
}

describe('determinism: the simulated network', () => {
  it('same seed, same digest with the trace on, off or streamed; another seed, another digest (seed=44)', async () => {
    const a = await simulated(44)
    const streamed: string[] = []
    const [b, off, sink, other] = [await simulated(44), await simulated(44, { limit: 0 }), await simulated(44, { limit: 3, sink: (e) => streamed.push(e.event) }), await simulated(45)]
    expect(a.received).toBeGreaterThan(500)
    expect(a.events).toBeGreaterThan(1_000)
    expect(b).toEqual(a)
    expect(off).toEqual(a)
    expect(sink).toEqual(a)
    expect(streamed).toHaveLength(a.events)
    expect(other.digest).not.toBe(a.digest)
  })
})

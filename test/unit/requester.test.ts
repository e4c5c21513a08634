/**
 * The requester: the reference's two scenarios (requester.rs tests), replayed on the deterministic
 * runtime, and a simulated network where slow peers are measurably avoided.
 */
import { describe, expect, it } from 'vitest'
import { Ed25519 } from '../../src/crypto/index.js'
import { DeterministicRuntime } from '../../src/runtime/index.js'
import { Recipients, SimulatedNetwork } from '../../src/simulated/index.js'
import { Quota } from '../../src/utils/quota.js'
import { Requester } from '../../src/utils/requester/index.js'

const key = (s: number) => Ed25519.fromSeed(s).publicKey
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const cfg = { me: key(0), rateLimit: Quota.perSecond(1), initialMs: 100, timeoutMs: 5_000 }

describe('Requester (reference scenarios)', () => {
  it('basic: rate limit, handle only from the asked peer, resolve, timeout, cancel, block', async () => {
    await new DeterministicRuntime({ seed: 0 }).run(async (ctx) => {
      const r = new Requester(ctx, cfg)
      expect(r.request(false)).toBeUndefined()
      expect(r.size).toBe(0)
      expect(r.next()).toBeUndefined()
      expect(r.handle(key(0), 0)).toBeUndefined()
      const other = key(1)
      r.reconcile([key(0), other])
      const now = ctx.now()
      const first = r.request(false)!
      expect(first.id).toBe(0)
      expect(hex(first.participant)).toBe(hex(other))
      expect(r.next()).toEqual({ id: 0, deadline: now + 5_000 })
      expect(r.size).toBe(1)
      expect(r.request(false)).toBeUndefined() // rate limited
      await ctx.sleep(10)
      expect(r.handle(key(0), 0)).toBeUndefined() // not from the peer asked
      const req = r.handle(other, 0)!
      expect(req.id).toBe(0)
      r.resolve(req)
      expect(r.priority(other)).toBe(55) // (100 + 10) / 2
      expect(r.request(false)).toBeUndefined()
      await ctx.sleep(1_000)
      const second = r.request(false)!
      expect([hex(second.participant), second.id]).toEqual([hex(other), 1])
      r.timeout(r.handle(other, 1)!)
      expect(r.priority(other)).toBe(2_527) // (55 + 5000) / 2
      expect(r.request(false)).toBeUndefined()
      await ctx.sleep(1_000)
      const third = r.request(false)!
      expect(third.id).toBe(2)
      expect(r.cancel(2)).toBeDefined()
      expect(r.next()).toBeUndefined()
      expect(r.size).toBe(0)
      await ctx.sleep(1_000)
      r.block(other)
      expect(r.request(false)).toBeUndefined()
    })
  })

  it('multiple: ties go to the smaller key, measured latency reorders peers, reconcile keeps priorities', async () => {
    await new DeterministicRuntime({ seed: 0 }).run(async (ctx) => {
      const r = new Requester(ctx, cfg)
      const [o1, o2, o3] = [key(1), key(2), key(3)]
      r.reconcile([key(0), o1, o2])
      const smaller = Buffer.compare(Buffer.from(o1), Buffer.from(o2)) < 0 ? o1 : o2
      const larger = smaller === o1 ? o2 : o1
      const a = r.request(false)!
      expect([hex(a.participant), a.id]).toEqual([hex(smaller), 0])
      r.timeout(r.handle(smaller, 0)!)
      const b = r.request(false)!
      expect([hex(b.participant), b.id]).toEqual([hex(larger), 1])
      await ctx.sleep(10)
      r.resolve(r.handle(larger, 1)!)
      expect(r.request(false)).toBeUndefined()
      await ctx.sleep(1_000)
      const c = r.request(false)!
      expect([hex(c.participant), c.id]).toEqual([hex(larger), 2]) // the fast one first now
      r.cancel(2)
      r.reconcile([key(0), larger, o3]) // drops `smaller`, keeps `larger`'s priority, adds o3 at 100
      expect(r.priority(smaller)).toBeUndefined()
      expect(r.priority(larger)).toBe(55)
      expect(r.priority(o3)).toBe(100)
    })
  })
})

describe('Requester on a simulated network (seed=3)', () => {
  it('slow peers are measurably avoided', async () => {
    const rt = new DeterministicRuntime({ seed: 3 })
    const counts = await rt.run(async (ctx) => {
      const { oracle } = SimulatedNetwork.create(ctx)
      const me = key(0)
      const peers = [1, 2, 3, 4].map(key)
      const latency = [20, 40, 400, 800] // one way, ms
      const [tx, rx] = oracle.register(me, 0, 64)
      peers.forEach((p, i) => {
        oracle.addLink(me, p, { latencyMs: latency[i]!, jitterMs: 0, successRate: 1 })
        oracle.addLink(p, me, { latencyMs: latency[i]!, jitterMs: 0, successRate: 1 })
        const [ptx, prx] = oracle.register(p, 0, 64)
        // Each peer answers every request with its id.
        ctx.spawn(`server-${i}`, async () => {
          for await (const [from, msg] of prx) await ptx.send(Recipients.one(from), msg)
        })
      })
      const r = new Requester(ctx, { me, rateLimit: Quota.perSecond(100), initialMs: 100, timeoutMs: 5_000 })
      r.reconcile(peers)
      const asked = new Map<string, number>()
      for (let round = 0; round < 100; round++) {
        const next = r.request(round % 10 === 0) // explore one round in ten
        if (!next) {
          await ctx.sleep(10)
          continue
        }
        asked.set(hex(next.participant), (asked.get(hex(next.participant)) ?? 0) + 1)
        await tx.send(Recipients.one(next.participant), Uint8Array.of(next.id & 255, next.id >> 8))
        const [from, msg] = await rx.recv()
        r.resolve(r.handle(from, msg[0]! | (msg[1]! << 8))!)
      }
      return peers.map((p) => asked.get(hex(p)) ?? 0)
    })
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100)
    expect(counts[0]!).toBeGreaterThan(counts[2]! + counts[3]!)
    expect(counts[3]!).toBeLessThan(10)
  })
})

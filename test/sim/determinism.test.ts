/**
 * Replay: 20 encrypted connections with random traffic on the deterministic runtime. The same seed
 * gives the same auditor digest (every socket write and delivery, bytes included); another seed gives
 * another. Anything that escapes the runtime (wall clock, Math.random, an unseeded key) breaks this.
 */
import { describe, expect, it } from 'vitest'
import { Ed25519 } from '../../src/crypto/index.js'
import { DeterministicRuntime } from '../../src/runtime/index.js'
import { upgradeDialer } from '../../src/stream/index.js'
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

/**
 * Attacks before authentication, on the deterministic runtime (virtual time, replayable from the seed
 * in each test's name): garbage, a 4 GiB length prefix, a trickled handshake, a burst of idle
 * connections, replayed and mis-bound handshakes. During each, Alice and Bob keep exchanging a steady
 * numbered stream on two channels; none of it may be lost or reordered, and their connection stays up.
 */
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { DeterministicRuntime, type Context } from '../../src/runtime/index.js'
import { frame } from '../../src/stream/framing.js'
import { Quota } from '../../src/utils/quota.js'
import { alice, bob, closedByPeer, craftHandshake, hex, insider, metric, outsider, honestStreamIntact, startHonest, Traffic, type HonestNode } from './harness.js'

interface Scene {
  rt: DeterministicRuntime
  ctx: Context
  a: HonestNode
  b: HonestNode
  attacker: Context
}

/** Alice and Bob connected with traffic flowing; run `attack`, then check the honest stream. */
async function underAttack(seed: number, attack: (s: Scene) => Promise<void>, patch = {}): Promise<void> {
  const rt = new DeterministicRuntime({ seed })
  await rt.run(async (ctx) => {
    const a = startHonest(rt.context('10.0.0.1', new Registry()), alice, '10.0.0.1:4000', undefined, patch)
    const b = startHonest(rt.context('10.0.0.2', new Registry()), bob, '10.0.0.2:4000', a, patch)
    await b.network.whenConnected(1)
    const traffic = new Traffic(ctx, a, b)
    await attack({ rt, ctx, a, b, attacker: rt.context('10.0.0.66') })
    await ctx.sleep(200) // the stream keeps flowing after the attack too
    await honestStreamIntact(traffic, a, 41)
    expect(await metric(a.ctx, 'peers_killed')).toBe(0)
    await Promise.all([a.stop(), b.stop()])
  })
}

const refused = (s: Scene, reason: string) => metric(s.a.ctx, 'handshakes_refused', { reason })

describe('before authentication: the attacker is refused, the honest stream is untouched', () => {
  it('random bytes: the connection is closed and counted (seed=101)', () =>
    underAttack(101, async (s) => {
      const conn = await s.attacker.dial(s.a.address)
      await conn.sink.send(s.attacker.randomBytes(4096))
      expect(await closedByPeer(conn)).toBe(true)
      expect(await refused(s, 'RecvFailed')).toBe(1) // random length prefix: over the limit
    }))

  it('a well-framed handshake of random bytes: UnableToDecode (seed=102)', () =>
    underAttack(102, async (s) => {
      const conn = await s.attacker.dial(s.a.address)
      await conn.sink.send(frame(Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, ...s.attacker.randomBytes(80))))
      await closedByPeer(conn)
      expect(await refused(s, 'UnableToDecode')).toBe(1)
    }))

  it('a 4 GiB length prefix: refused at once, nothing allocated (seed=103)', () =>
    underAttack(103, async (s) => {
      const conn = await s.attacker.dial(s.a.address)
      const before = process.memoryUsage().arrayBuffers
      const t0 = s.ctx.now()
      await conn.sink.send(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3))
      await closedByPeer(conn)
      expect(s.ctx.now() - t0).toBeLessThan(100) // one link round trip, not a timeout
      expect(await refused(s, 'RecvFailed')).toBe(1) // the reference's name for a frame it cannot read
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20)
    }))

  it('slowloris: a valid handshake trickled one byte a second is cut at the handshake deadline (seed=104)', () =>
    underAttack(104, async (s) => {
      const conn = await s.attacker.dial(s.a.address)
      const bytes = craftHandshake(s.attacker, insider, alice.publicKey)
      const t0 = s.ctx.now()
      let written = 0
      const trickle = (async () => {
        for (const byte of bytes) {
          await conn.sink.send(Uint8Array.of(byte))
          written++
          await s.attacker.sleep(1000)
        }
      })().catch(() => 'closed')
      await closedByPeer(conn)
      const heldMs = s.ctx.now() - t0
      expect(heldMs).toBeGreaterThanOrEqual(5_000) // Config.test's handshakeTimeoutMs
      expect(heldMs).toBeLessThan(5_200)
      expect(written).toBeLessThan(bytes.length)
      expect(await refused(s, 'ERR_HANDSHAKE_TIMEOUT')).toBe(1)
      conn.sink.close()
      await trickle
      expect(s.a.network.connected().map(hex)).not.toContain(hex(insider.publicKey))
    }))

  it('1,000 idle connections at once: admitted at the incoming rate, each cut at the deadline (seed=105)', () =>
    underAttack(
      105,
      async (s) => {
        const conns = await Promise.all(Array.from({ length: 1000 }, () => s.attacker.dial(s.a.address)))
        await Promise.all(conns.map((c) => closedByPeer(c)))
        expect(await refused(s, 'ERR_HANDSHAKE_TIMEOUT')).toBe(1000)
      },
      { allowedIncomingConnectionRate: Quota.perSecond(200) },
    ))

  it('a replayed handshake of a connected peer: dropped without an answer (seed=106)', () =>
    underAttack(106, async (s) => {
      // What an eavesdropper captured from Bob's dial (fresh, correctly signed, for Alice).
      const captured = craftHandshake(s.attacker, bob, alice.publicKey)
      const conn = await s.attacker.dial(s.a.address)
      await conn.sink.send(captured)
      await closedByPeer(conn)
      expect(await refused(s, 'reservation_refused')).toBe(1)
    }))

  it('a replayed handshake of a peer not connected: answered, then cut at the first frame the replayer cannot seal (seed=107)', () =>
    underAttack(107, async (s) => {
      const captured = craftHandshake(s.attacker, insider, alice.publicKey)
      const conn = await s.attacker.dial(s.a.address)
      await conn.sink.send(captured)
      const answer = await conn.stream.recv() // Alice answers with her own handshake...
      expect(answer?.length).toBeGreaterThan(64)
      await conn.sink.send(frame(s.attacker.randomBytes(48))) // ...but without the ephemeral secret no frame opens
      await closedByPeer(conn)
      expect(await metric(s.a.ctx, 'peers_killed', { reason: 'decrypt_failed' })).toBe(1)
      await s.a.network.whenPeers((c) => !c.some((k) => hex(k) === hex(insider.publicKey)))
      // Counted as a kill: reset so the shared assertion (no honest peer killed) stays meaningful.
      s.a.ctx.registry.getSingleMetric('peers_killed')!.reset()
    }))

  it.each([
    ['another namespace', 'InvalidSignature', { namespace: new TextEncoder().encode('other-app_STREAM') }],
    ['another recipient', 'HandshakeNotForUs', { recipient: bob.publicKey }],
    ['a stale timestamp (60 s old)', 'InvalidTimestampOld', { timestampMs: -60_000 }],
    ['a future timestamp (60 s ahead)', 'InvalidTimestampFuture', { timestampMs: 60_000 }],
  ] as const)('a handshake signed for %s is refused as %s (seed=108)', (_what, reason, opts) =>
    underAttack(108, async (s) => {
      const o = 'timestampMs' in opts ? { timestampMs: s.ctx.now() + opts.timestampMs } : opts
      const conn = await s.attacker.dial(s.a.address)
      await conn.sink.send(craftHandshake(s.attacker, insider, alice.publicKey, o))
      await closedByPeer(conn)
      expect(await refused(s, reason)).toBe(1)
    }),
  )

  it('a key outside every peer set, with a perfect handshake: dropped without an answer (seed=109)', () =>
    underAttack(109, async (s) => {
      const conn = await s.attacker.dial(s.a.address)
      await conn.sink.send(craftHandshake(s.attacker, outsider, alice.publicKey))
      expect(await conn.stream.recv()).toBeNull()
      expect(await refused(s, 'reservation_refused')).toBe(1)
    }))
})

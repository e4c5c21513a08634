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
      expect(await refused(s, 'recv_failed')).toBe(1) // random length prefix: over the limit
    }))

  it('a well-framed handshake of random bytes: UnableToDecode (seed=102)', () =>
    underAttack(102, async (s) => {
      const conn = await s.attacker.dial(s.a.address)
      await conn.sink.send(frame(Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, ...s.attacker.randomBytes(80))))
      await closedByPeer(conn)
      expect(await refused(s, 'undecodable')).toBe(1)
    }))

  it('a 4 GiB length prefix: refused at once, nothing allocated (seed=103)', () =>
    underAttack(103, async (s) => {
      const conn = await s.attacker.dial(s.a.address)
      const before = process.memoryUsage().arrayBuffers
      const t0 = s.ctx.now()
      await conn.sink.send(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3))
      await closedByPeer(conn)
      expect(s.ctx.now() - t0).toBeLessThan(100) // one link round trip, not a timeout
      expect(await refused(s, 'recv_failed')).toBe(1) // the reference's RecvFailed: a frame it cannot read
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
      expect(await refused(s, 'timeout')).toBe(1)
      conn.sink.close()
      await trickle
      expect(s.a.network.connected().map(hex)).not.toContain(hex(insider.publicKey))
    }))

  it('1,000 idle connections at once from one host: the per-IP handshake limit holds 8, the rest are closed at accept, nothing queues (seed=105)', () =>
    underAttack(
      105,
      async (s) => {
        const t0 = s.ctx.now()
        const conns = await Promise.all(Array.from({ length: 1000 }, () => s.attacker.dial(s.a.address)))
        const closedAt = await Promise.all(conns.map(async (c) => (await closedByPeer(c), s.ctx.now() - t0)))
        expect(await refused(s, 'ip_busy')).toBe(992)
        expect(await refused(s, 'timeout')).toBe(8)
        // Refused ones are closed within a link round trip; held ones at the deadline (5 s), none later.
        expect(closedAt.filter((ms) => ms < 100)).toHaveLength(992)
        expect(Math.max(...closedAt)).toBeLessThan(5_100)
        expect(await metric(s.a.ctx, 'handshakes_pending')).toBe(0)
      },
      { maxConcurrentHandshakesPerIp: 8 },
    ))

  it('1,000 idle connections at once from 1,000 hosts: the global rate admits its burst, the rest are closed at accept (seed=110)', () =>
    underAttack(
      110,
      async (s) => {
        const conns = await Promise.all(Array.from({ length: 1000 }, (_, i) => s.rt.context(`10.${1 + (i >> 8)}.${i & 0xff}.9`).dial(s.a.address)))
        await Promise.all(conns.map((c) => closedByPeer(c)))
        const held = await refused(s, 'timeout')
        // The burst of 200 (one cell went to Bob's connection), plus what the rate refills during the dials.
        expect(held).toBeGreaterThanOrEqual(199)
        expect(held).toBeLessThan(260)
        expect(await refused(s, 'global_rate')).toBe(1000 - held)
      },
      { allowedIncomingConnectionRate: Quota.perSecond(200) },
    ))

  it('a partial handshake per host from 50 hosts holds at most maxConcurrentHandshakes slots: one more is closed at once (seed=111)', () =>
    underAttack(
      111,
      async (s) => {
        const conns = await Promise.all(Array.from({ length: 50 }, (_, i) => s.rt.context(`10.9.${i}.9`).dial(s.a.address)))
        for (const c of conns) await c.sink.send(Uint8Array.of(0, 0)) // half a length prefix, then nothing
        await s.ctx.sleep(10)
        expect(await metric(s.a.ctx, 'handshakes_pending')).toBe(40)
        expect(await refused(s, 'handshakes_full')).toBe(10)
        await Promise.all(conns.map((c) => closedByPeer(c)))
        expect(await refused(s, 'timeout')).toBe(40)
      },
      { maxConcurrentHandshakes: 40 },
    ))

  it('a replayed handshake of a connected peer: dropped without an answer (seed=106)', () =>
    underAttack(106, async (s) => {
      // What an eavesdropper captured from Bob's dial (fresh, correctly signed, for Alice).
      const captured = craftHandshake(s.attacker, bob, alice.publicKey)
      const conn = await s.attacker.dial(s.a.address)
      await conn.sink.send(captured)
      await closedByPeer(conn)
      expect(await refused(s, 'already_connected')).toBe(1)
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
    ['another namespace', 'bad_signature', { namespace: new TextEncoder().encode('other-app_STREAM') }],
    ['another recipient', 'not_for_us', { recipient: bob.publicKey }],
    ['a stale timestamp (60 s old)', 'stale_timestamp', { timestampMs: -60_000 }],
    ['a future timestamp (60 s ahead)', 'future_timestamp', { timestampMs: 60_000 }],
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
      expect(await refused(s, 'not_in_peer_set')).toBe(1)
    }))
})

/** Alice and Bob in lookup mode (insider registered at 10.0.0.3), traffic flowing; run `attack`, then check the honest stream. */
async function lookupUnderAttack(seed: number, attack: (s: Scene) => Promise<void>): Promise<void> {
  const rt = new DeterministicRuntime({ seed })
  await rt.run(async (ctx) => {
    const set: [Uint8Array, string][] = [[alice.publicKey, '10.0.0.1:4000'], [bob.publicKey, '10.0.0.2:4000'], [insider.publicKey, '10.0.0.3:4000']]
    const a = startHonest(rt.context('10.0.0.1', new Registry()), alice, '10.0.0.1:4000', undefined, { mode: 'lookup' }, set)
    const b = startHonest(rt.context('10.0.0.2', new Registry()), bob, '10.0.0.2:4000', undefined, { mode: 'lookup' }, set)
    await Promise.all([a, b].map((n) => n.network.whenConnected(1)))
    const traffic = new Traffic(ctx, a, b)
    await attack({ rt, ctx, a, b, attacker: rt.context('10.0.0.66') })
    await ctx.sleep(200)
    await honestStreamIntact(traffic, a, 41)
    expect(await metric(a.ctx, 'peers_killed')).toBe(0)
    await Promise.all([a.stop(), b.stop()])
  })
}

describe('keys the application shut out: refused before the signature is checked, the honest stream is untouched', () => {
  const forged = { namespace: new TextEncoder().encode('not-the-app_STREAM') } // the signature does not verify

  it('a blocked key: refused as blocked with a forged signature and with a perfect one, no answer (seed=112)', () =>
    underAttack(112, async (s) => {
      s.a.oracle.block(insider.publicKey, { forMs: 60_000 })
      for (const opts of [forged, {}]) {
        const conn = await s.attacker.dial(s.a.address)
        await conn.sink.send(craftHandshake(s.attacker, insider, alice.publicKey, opts))
        expect(await conn.stream.recv()).toBeNull()
      }
      expect(await refused(s, 'blocked')).toBe(2)
      expect(await refused(s, 'bad_signature')).toBe(0)
      expect(await metric(s.a.ctx, 'blocked_peers')).toBe(1)
    }))

  it('lookup mode: a set key from another IP than its registered one is refused as wrong_ip, forged or perfect, no answer (seed=113)', () =>
    lookupUnderAttack(113, async (s) => {
      for (const opts of [forged, {}]) {
        const conn = await s.attacker.dial(s.a.address)
        await conn.sink.send(craftHandshake(s.attacker, insider, alice.publicKey, opts))
        expect(await conn.stream.recv()).toBeNull()
      }
      expect(await refused(s, 'wrong_ip')).toBe(2)
      expect(await refused(s, 'bad_signature')).toBe(0)
      // From its registered IP the same key is accepted.
      const home = s.rt.context('10.0.0.3')
      const conn = await home.dial(s.a.address)
      await conn.sink.send(craftHandshake(home, insider, alice.publicKey))
      expect((await conn.stream.recv())?.length).toBeGreaterThan(64)
      conn.sink.close()
    }))
})

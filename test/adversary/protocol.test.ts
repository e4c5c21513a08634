/**
 * Attacks after authentication, by a Byzantine peer of the set (the insider), on the deterministic
 * runtime: frames that do not open or are too large, messages that do not decode, bad bit vectors,
 * bad peer records, floods over a channel's quota, unregistered channels, decompression bombs. Each
 * test asserts the attacker's outcome and the metric that counted it, while Alice and Bob keep
 * exchanging their numbered stream without loss or reordering.
 */
import { compress, Compressor } from 'zstd-napi'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { DeterministicRuntime, type Context } from '../../src/runtime/index.js'
import { decodeMessage, decodeSocket, type Peer } from '../../src/codec/index.js'
import { frame } from '../../src/stream/framing.js'
import { alice, bob, connectAs, hex, insider, LIMITED, MAX_MESSAGE, metric, outsider, PACKED, record, honestStreamIntact, startHonest, Traffic, type HonestNode, type InsiderLink } from './harness.js'

interface Scene {
  ctx: Context
  a: HonestNode
  b: HonestNode
  attacker: Context
  link: InsiderLink
  rt: DeterministicRuntime
}

const INSIDER = hex(insider.publicKey)

/** Alice and Bob with traffic flowing and the insider connected to Alice; run `attack`; check the stream. */
async function underAttack(seed: number, attack: (s: Scene) => Promise<void>, o: { hosts?: [string, string, string]; patch?: object } = {}): Promise<void> {
  const [ha, hb, hx] = o.hosts ?? ['10.0.0.1', '10.0.0.2', '10.0.0.66']
  const rt = new DeterministicRuntime({ seed })
  await rt.run(async (ctx) => {
    const a = startHonest(rt.context(ha, new Registry()), alice, `${ha}:4000`, undefined, o.patch)
    const b = startHonest(rt.context(hb, new Registry()), bob, `${hb}:4000`, a, o.patch)
    await b.network.whenConnected(1)
    const traffic = new Traffic(ctx, a, b)
    const attacker = rt.context(hx)
    const link = await connectAs(attacker, a)
    await a.network.whenPeers((c) => c.some((k) => hex(k) === INSIDER))
    await attack({ ctx, a, b, attacker, link, rt })
    await ctx.sleep(200)
    await honestStreamIntact(traffic, a, 41)
    expect(await metric(b.ctx, 'peers_killed')).toBe(0)
    expect(await metric(a.ctx, 'peers_killed')).toBeLessThanOrEqual(1) // the insider, at most
    link.conn.close()
    await Promise.all([a.stop(), b.stop()])
  })
}

/** The next Peers message Alice sends the insider (bit vectors are skipped). */
async function nextPeers(link: InsiderLink): Promise<Peer[]> {
  for (;;) {
    const m = decodeMessage(await link.conn.recv())
    if (m.type === 'peers') return m.peers
  }
}

/** The insider's connection to Alice ended, and Alice counted it under `reason`. */
async function killed(s: Scene, reason: string): Promise<void> {
  await s.a.network.whenPeers((c) => !c.some((k) => hex(k) === INSIDER))
  expect(await metric(s.a.ctx, 'peers_killed', { reason })).toBe(1)
  expect(await metric(s.a.ctx, 'peers_killed')).toBe(1)
}

/** The insider is still connected after Alice had time to process what it sent. */
async function stillConnected(s: Scene): Promise<void> {
  await s.ctx.sleep(500)
  expect(s.a.network.connected().map(hex)).toContain(INSIDER)
  expect(await metric(s.a.ctx, 'peers_killed')).toBe(0)
}

describe('after authentication: a Byzantine peer costs only its own connection', () => {
  it('a frame that fails to decrypt ends the connection: decrypt_failed (seed=201)', () =>
    underAttack(201, async (s) => {
      await s.link.raw.sink.send(frame(s.attacker.randomBytes(100)))
      await killed(s, 'decrypt_failed')
    }))

  it('a frame over the size limit ends the connection before it is read: frame_too_large (seed=202)', () =>
    underAttack(202, async (s) => {
      const header = new Uint8Array(4)
      new DataView(header.buffer).setUint32(0, MAX_MESSAGE + 64 + 16 + 1)
      await s.link.raw.sink.send(header)
      await killed(s, 'frame_too_large')
    }))

  it('a message that does not decode ends the connection: decode_failed (seed=203)', () =>
    underAttack(203, async (s) => {
      await s.link.conn.send(Uint8Array.of(0x0a, 0x80)) // a length-delimited field whose length never ends
      await killed(s, 'decode_failed')
    }))

  it('a bit vector of the wrong length ends the connection: BitVecLengthMismatch (seed=204)', () =>
    underAttack(204, async (s) => {
      await s.link.send({ type: 'bitVec', index: 0n, bits: new Uint8Array(9) })
      await killed(s, 'BitVecLengthMismatch')
    }))

  it('a bit vector with a bit past the set size ends the connection: BitVecExtraBit (seed=205)', () =>
    underAttack(205, async (s) => {
      await s.link.send({ type: 'bitVec', index: 0n, bits: Uint8Array.of(0xff) }) // the set has 3 keys
      await killed(s, 'BitVecExtraBit')
    }))

  it('a bit vector for an unknown peer-set index is ignored, as in the reference (seed=206)', () =>
    underAttack(206, async (s) => {
      await s.link.send({ type: 'bitVec', index: 77n, bits: new Uint8Array(1) })
      await stillConnected(s)
    }))

  it('a peer record with a bad signature ends the connection: InvalidSignature (seed=207)', () =>
    underAttack(207, async (s) => {
      const forged = record(insider, '10.0.0.99:4000', s.ctx.now())
      forged.signature!.signature[0]! ^= 1
      await s.link.send({ type: 'peers', peers: [forged] })
      await killed(s, 'InvalidSignature')
    }))

  it('a record signed for another namespace ends the connection: InvalidSignature (seed=208)', () =>
    underAttack(208, async (s) => {
      const other = record(insider, '10.0.0.99:4000', s.ctx.now(), { namespace: new TextEncoder().encode('other_TRACKER_IP') })
      await s.link.send({ type: 'peers', peers: [other] })
      await killed(s, 'InvalidSignature')
    }))

  it('a record from the future (beyond the synchrony bound) ends the connection (seed=209)', () =>
    underAttack(209, async (s) => {
      await s.link.send({ type: 'peers', peers: [record(insider, '10.0.0.99:4000', s.ctx.now() + 60_000)] })
      await killed(s, 'InvalidSignature') // the reference's name for it
    }))

  it('more records than peerGossipMaxCount ends the connection: TooManyPeers (seed=210)', () =>
    underAttack(210, async (s) => {
      const peers = Array.from({ length: 33 }, (_, i) => record(insider, `10.0.1.${i}:4000`, s.ctx.now()))
      await s.link.send({ type: 'peers', peers })
      await killed(s, 'TooManyPeers')
    }))

  it('a private address where private addresses are not allowed: PrivateIPsNotAllowed (seed=211)', () =>
    underAttack(
      211,
      async (s) => {
        await s.link.send({ type: 'peers', peers: [record(insider, '192.168.1.7:4000', s.ctx.now())] })
        await killed(s, 'PrivateIPsNotAllowed')
      },
      { hosts: ['1.0.0.1', '1.0.0.2', '1.0.0.66'], patch: { allowPrivateIps: false } },
    ))

  it('a record for a key outside every set is ignored: Alice never dials it (seed=212)', () =>
    underAttack(212, async (s) => {
      const trap = await s.rt.context('10.0.0.77').listen('10.0.0.77:4000')
      let dialed = 0
      void (async () => {
        while (await trap.accept()) dialed++
      })()
      await s.link.send({ type: 'peers', peers: [record(outsider, '10.0.0.77:4000', s.ctx.now())] })
      await s.ctx.sleep(5_000) // five dial rounds of Config.test
      expect(dialed).toBe(0)
      trap.close()
      await stillConnected(s)
    }))

  it('a stale record of an honest peer (replayed, older than the one known) is ignored: Alice still gossips the current one (seed=213)', () =>
    underAttack(213, async (s) => {
      // Bob's genuine record from a minute ago, pointing at an address the attacker now controls.
      await s.link.send({ type: 'peers', peers: [record(bob, '10.0.0.78:4000', s.ctx.now() - 60_000)] })
      // Ask Alice for every address she knows: a bit vector with no bit set (3 keys in set 0).
      await s.link.send({ type: 'bitVec', index: 0n, bits: new Uint8Array(1) })
      const reply = await nextPeers(s.link)
      const bobs = reply.filter((p) => hex(p.signature!.publicKey) === hex(bob.publicKey))
      expect(bobs.map((p) => decodeSocket(p.socket))).toEqual([{ host: '10.0.0.2', port: 4000, family: 4 }])
      await stillConnected(s)
    }))

  it('a flood far over the channel quota is throttled, never dropped, and slows only the flooder (seed=214)', () =>
    underAttack(214, async (s) => {
      const flood = 2_000
      const t0 = s.ctx.now()
      for (let i = 0; i < flood; i++) void s.link.send({ type: 'data', channel: LIMITED, message: new Uint8Array(512) })
      const [, limited] = s.a.channels.get(LIMITED)!
      let got = 0
      while (got < 40) {
        await limited.recv()
        got++
      }
      // Burst of 10 then 10/s: 40 messages take at least 3 s of virtual time.
      expect(s.ctx.now() - t0).toBeGreaterThanOrEqual(2_900)
      expect(await metric(s.a.ctx, 'messages_rate_limited', { peer: INSIDER, message: String(LIMITED) })).toBeGreaterThan(0)
      expect(await metric(s.a.ctx, 'messages_dropped', { peer: INSIDER })).toBe(0)
      expect(s.a.network.connected().map(hex)).toContain(INSIDER)
    }))

  it('a bit-vector flood is throttled by the gossip quota; the connection stays (seed=217)', () =>
    underAttack(217, async (s) => {
      await Promise.all(Array.from({ length: 30 }, () => s.link.send({ type: 'bitVec', index: 0n, bits: Uint8Array.of(0b111) })))
      // Config.test allows 5 bit vectors per second: the other 25 wait their turn, none is dropped.
      await s.ctx.sleep(6_000)
      expect(await metric(s.a.ctx, 'messages_rate_limited', { peer: INSIDER, message: '-1' })).toBeGreaterThan(0)
      expect(await metric(s.a.ctx, 'messages_received', { peer: INSIDER, message: '-1' })).toBeGreaterThanOrEqual(30)
      await stillConnected(s)
    }))

  it('messages on an unregistered channel are counted and dropped; the connection stays (seed=215)', () =>
    underAttack(215, async (s) => {
      for (let i = 0; i < 5; i++) await s.link.send({ type: 'data', channel: 99, message: Uint8Array.of(i) })
      await stillConnected(s)
      expect(await metric(s.a.ctx, 'messages_dropped', { peer: INSIDER, message: '99', reason: 'unknown_channel' })).toBe(5)
    }))

  it.each([
    ['declares its size', () => compress(new Uint8Array(256 << 20), { compressionLevel: 19 })],
    ['hides its size', () => {
      const c = new Compressor()
      c.setParameters({ compressionLevel: 19, contentSizeFlag: false })
      return c.compress(new Uint8Array(64 << 20))
    }],
  ])('a decompression bomb that %s is refused within the size cap; the channel keeps working (seed=216)', (_what, bomb) =>
    underAttack(216, async (s) => {
      const payload = bomb()
      expect(payload.length).toBeLessThan(MAX_MESSAGE)
      const arrayBuffers = process.memoryUsage().arrayBuffers
      await s.link.send({ type: 'data', channel: PACKED, message: payload })
      await s.ctx.sleep(100)
      expect(await metric(s.a.ctx, 'messages_dropped', { peer: INSIDER, message: String(PACKED), reason: 'decompression_failed' })).toBe(1)
      expect(process.memoryUsage().arrayBuffers - arrayBuffers).toBeLessThan(32 << 20)
      await stillConnected(s)
    }))
})

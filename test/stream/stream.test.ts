/**
 * The encrypted stream on the deterministic runtime and on real loopback sockets: a full exchange,
 * then every kind of bad input, each asserting the typed error, the closed socket, and that a second,
 * healthy connection on the same listener still works.
 */
import { describe, expect, it } from 'vitest'
import { encodeHandshake, handshakePayload } from '../../src/codec/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { isP2pError, type HandshakeError } from '../../src/errors.js'
import { binding } from '../../src/native/load.js'
import { DeterministicRuntime, NodeContext, type Connection, type Context } from '../../src/runtime/index.js'
import { createHandshake, frame, upgradeDialer } from '../../src/stream/index.js'
import { MAX, NS, config, echoServer } from '../helpers/stream.js'

const PEER = Ed25519.fromSeed(1).publicKey // the listener's key
const sizes = [0, 1, 2, 100, 1000, MAX - 1, MAX]

/** A healthy dialer: handshake, one round trip, close. */
async function healthy(ctx: Context, address: string): Promise<void> {
  const conn = await upgradeDialer(ctx, config(0), await ctx.dial(address), PEER)
  await conn.send(Uint8Array.of(42))
  expect(Array.from(await conn.recv())).toEqual([42])
  conn.close()
}

/** Read what the listener sends back on a raw socket: its handshake frame, or nothing before it closes. */
async function drain(c: Connection): Promise<number> {
  let n = 0
  for (let chunk = await c.stream.recv(); chunk !== null; chunk = await c.stream.recv()) n += chunk.length
  return n
}

function rawHandshake(opts: { signerSeed?: number; recipient?: Uint8Array; ts: number; ns?: Uint8Array }): Uint8Array {
  const cfg = config(opts.signerSeed ?? 0, opts.ns ? { namespace: opts.ns } : {})
  return frame(createHandshake(cfg, opts.recipient ?? PEER, new Uint8Array(32).fill(9), opts.ts))
}

type Attack = (ctx: Context, socket: Connection) => Promise<void>
interface Case {
  name: string
  attack: Attack
  /** What the listener must report. */
  expect: (e: unknown) => void
}

const reason = (r: HandshakeError['reason']) => (e: unknown) => {
  expect(isP2pError(e, 'ERR_AUTH_FAILED')).toBe(true)
  expect((e as HandshakeError).reason).toBe(r)
}
const code = (c: string) => (e: unknown) => expect(isP2pError(e, c as never)).toBe(true)

const handshakeCases: Case[] = [
  { name: 'wrong namespace', attack: async (ctx, s) => s.sink.send(rawHandshake({ ts: ctx.now(), ns: new TextEncoder().encode('other_STREAM') })), expect: reason('InvalidSignature') },
  { name: 'timestamp exactly max age old is accepted (control)', attack: async (ctx, s) => s.sink.send(rawHandshake({ ts: ctx.now() - 10_000 })), expect: () => undefined },
  { name: 'timestamp 1 ms older than max age', attack: async (ctx, s) => s.sink.send(rawHandshake({ ts: ctx.now() - 10_001 })), expect: reason('InvalidTimestampOld') },
  { name: 'timestamp exactly the synchrony bound ahead is accepted (control)', attack: async (ctx, s) => s.sink.send(rawHandshake({ ts: ctx.now() + 5_000 })), expect: () => undefined },
  { name: 'timestamp 1 ms past the synchrony bound', attack: async (ctx, s) => s.sink.send(rawHandshake({ ts: ctx.now() + 5_001 })), expect: reason('InvalidTimestampFuture') },
  { name: 'handshake for another recipient', attack: async (ctx, s) => s.sink.send(rawHandshake({ ts: ctx.now(), recipient: Ed25519.fromSeed(7).publicKey })), expect: reason('HandshakeNotForUs') },
  {
    name: 'signature by a key other than the claimed one',
    attack: async (ctx, s) => {
      const eph = new Uint8Array(32).fill(9)
      const ts = BigInt(ctx.now())
      const forged = Ed25519.fromSeed(5).sign(NS, handshakePayload(PEER, eph, ts))
      await s.sink.send(frame(encodeHandshake({ recipientPublicKey: PEER, ephemeralPublicKey: eph, timestamp: ts, signature: { publicKey: Ed25519.fromSeed(0).publicKey, signature: forged } })))
    },
    expect: reason('InvalidSignature'),
  },
  { name: 'garbage bytes', attack: async (_ctx, s) => s.sink.send(frame(new Uint8Array(40).fill(0xff))), expect: reason('UnableToDecode') },
  {
    name: 'a length prefix over the limit',
    attack: async (_ctx, s) => s.sink.send(Uint8Array.of(0xff, 0xff, 0xff, 0xff)),
    expect: (e) => {
      reason('RecvFailed')(e)
      expect(isP2pError((e as Error).cause, 'ERR_FRAME_TOO_LARGE')).toBe(true)
    },
  },
  {
    name: 'a zero length prefix',
    attack: async (_ctx, s) => s.sink.send(Uint8Array.of(0, 0, 0, 0)),
    expect: (e) => {
      reason('RecvFailed')(e)
      expect(isP2pError((e as Error).cause, 'ERR_FRAME_EMPTY')).toBe(true)
    },
  },
  { name: 'a peer that connects and never speaks', attack: async () => undefined, expect: code('ERR_HANDSHAKE_TIMEOUT') },
  { name: 'half a handshake frame, then silence', attack: async (ctx, s) => s.sink.send(rawHandshake({ ts: ctx.now() }).subarray(0, 50)), expect: code('ERR_HANDSHAKE_TIMEOUT') },
]

/** Runs each attack against a fresh listener, then a healthy connection on the same listener. */
async function runHandshakeCase(ctx: Context, listenAt: string, c: Case): Promise<void> {
  const listener = await ctx.listen(listenAt)
  const server = echoServer(ctx, listener, config(1))
  const socket = await ctx.dial(listener.address)
  await c.attack(ctx, socket)
  // The listener answers a refused handshake with nothing and closes; an accepted one gets a reply.
  const answered = await drainUntilClosedOrAnswered(ctx, socket)
  if (server.refused.length === 0) {
    expect(answered).toBeGreaterThan(0) // controls: the listener answered with its handshake
    socket.sink.close()
  } else {
    expect(answered).toBe(0)
    expect(server.refused).toHaveLength(1)
    c.expect(server.refused[0])
  }
  await healthy(ctx, listener.address)
  expect(server.established.length).toBeGreaterThanOrEqual(1)
  listener.close()
  await server.done
}

/** Bytes received before the socket closed, or (for accepted controls) as soon as something arrives. */
async function drainUntilClosedOrAnswered(ctx: Context, socket: Connection): Promise<number> {
  const chunk = await Promise.race([socket.stream.recv(), ctx.sleep(6_000).then(() => 'silent' as const)])
  if (chunk === 'silent') return -1
  if (chunk === null) return 0
  return chunk.length
}

describe.each([
  ['deterministic', () => new DeterministicRuntime({ seed: 4 }), '127.0.0.1:9000'],
] as const)('handshake refusals [%s runtime]', (_name, make, addr) => {
  it.each(handshakeCases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const rt = make()
    await rt.run((ctx) => runHandshakeCase(ctx, addr, c), { maxTimeMs: 60_000 })
  })
})

describe('handshake refusals [real loopback sockets]', () => {
  // Only the cases that finish without waiting for a timeout: no wall-clock waits in tests.
  it.each(handshakeCases.filter((c) => !/never speaks|silence/.test(c.name)).map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    await runHandshakeCase(new NodeContext(), '127.0.0.1:0', c)
  })
})

describe('dialer-side checks', () => {
  it('a listener answering with another key than the one expected: WrongPeer, socket closed', async () => {
    const rt = new DeterministicRuntime({ seed: 5 })
    await rt.run(async (ctx) => {
      const l = await ctx.listen('127.0.0.1:9001')
      // An impostor: reads the handshake and answers it, correctly addressed, but signed by key 2.
      const impostor = ctx.spawn('impostor', async () => {
        const s = (await l.accept())!
        await s.stream.recv()
        await s.sink.send(frame(createHandshake(config(2), Ed25519.fromSeed(0).publicKey, new Uint8Array(32).fill(4), ctx.now())))
        return drain(s)
      })
      const err = await upgradeDialer(ctx, config(0), await ctx.dial(l.address), PEER).catch((e: unknown) => e)
      reason('WrongPeer')(err)
      expect(await impostor.done).toBe(0) // the dialer closed without sending anything more
    })
  })

  it('a listener that never answers: HandshakeTimeout at the deadline', async () => {
    const rt = new DeterministicRuntime({ seed: 5, startMs: 0 })
    await rt.run(async (ctx) => {
      const l = await ctx.listen('127.0.0.1:9001')
      ctx.spawn('mute', async () => drain((await l.accept())!))
      const err = await upgradeDialer(ctx, config(0), await ctx.dial(l.address), PEER).catch((e: unknown) => e)
      expect(isP2pError(err, 'ERR_HANDSHAKE_TIMEOUT')).toBe(true)
      expect(ctx.now()).toBeGreaterThanOrEqual(5_000)
      expect(ctx.now()).toBeLessThan(5_100)
    })
  })
})

describe('the encrypted connection', () => {
  it('exchanges messages of every size up to the maximum, both ways, on both runtimes', async () => {
    const exchange = async (ctx: Context, at: string) => {
      const l = await ctx.listen(at)
      const server = echoServer(ctx, l, config(1))
      const conn = await upgradeDialer(ctx, config(0), await ctx.dial(l.address), PEER)
      expect(Buffer.from(conn.peer).equals(Buffer.from(PEER))).toBe(true)
      for (const size of sizes) {
        const msg = new Uint8Array(size).map((_, i) => (i * 7 + size) % 256)
        await conn.send(msg)
        expect(Buffer.compare(Buffer.from(await conn.recv()), Buffer.from(msg))).toBe(0)
      }
      // Many small messages queued at once go out in batches and come back in order.
      const many = Array.from({ length: 500 }, (_, i) => Uint8Array.of(i & 0xff, i >> 8))
      await Promise.all(many.map((m) => conn.send(m)))
      for (const m of many) expect(Array.from(await conn.recv())).toEqual(Array.from(m))
      const tooBig = await conn.send(new Uint8Array(MAX + 1)).catch((e: unknown) => e)
      expect(isP2pError(tooBig, 'ERR_FRAME_TOO_LARGE')).toBe(true)
      conn.close()
      l.close()
      await server.done
    }
    await new DeterministicRuntime({ seed: 6 }).run((ctx) => exchange(ctx, '127.0.0.1:9002'))
    await exchange(new NodeContext(), '127.0.0.1:0')
  })
})

describe('large batches', () => {
  const BIG = 1 << 20
  // Sizes around the pooled (64 KiB) and thread-pool (256 KiB) thresholds, queued all at once so that
  // batches mix them; each message has its own bytes, so a buffer reused too early would show.
  const msgs = [BIG, 100, 300 << 10, BIG, 70 << 10, 1, BIG - 1, 64 << 10, 256 << 10, BIG].map((size, k) => new Uint8Array(size).map((_, i) => (i * 13 + k * 101) % 251))
  const roundTrip = async (ctx: Context, at: string, threadPool: boolean) => {
    const cfg = (seed: number) => config(seed, { maxMessageBytes: BIG + 64, threadPool })
    const l = await ctx.listen(at)
    const server = echoServer(ctx, l, cfg(1))
    const conn = await upgradeDialer(ctx, cfg(0), await ctx.dial(l.address), PEER)
    for (let round = 0; round < 2; round++) {
      // Some go as parts (a header and the rest), which must make one frame each.
      const sent = msgs.map((m, k) => (k % 3 === 1 ? conn.sendMany([[m.subarray(0, 7), m.subarray(7, 9), m.subarray(9)]]) : conn.send(m)))
      for (const m of msgs) expect(Buffer.from(await conn.recv()).equals(m)).toBe(true)
      await Promise.all(sent)
    }
    conn.close()
    l.close()
    await server.done
  }

  it.each([false, true])('come back whole and in order over real sockets (threadPool=%s)', (threadPool) => roundTrip(new NodeContext(), '127.0.0.1:0', threadPool))

  it('threadPool is ignored on the deterministic runtime (no work leaves its queue)', () =>
    new DeterministicRuntime({ seed: 7 }).run((ctx) => roundTrip(ctx, '127.0.0.1:9003', true)))
})

describe('bad frames after the handshake', () => {
  /** A dialer whose socket lets the test rewrite what it sends after the handshake. */
  async function tampered(ctx: Context, at: string, rewrite: (frames: Uint8Array[]) => Uint8Array[]): Promise<{ err: unknown; healthy: boolean }> {
    const l = await ctx.listen(at)
    const server = echoServer(ctx, l, config(1))
    const socket = await ctx.dial(l.address)
    const sent: Uint8Array[] = []
    let handshakeDone = false
    const spy: Connection = {
      remote: socket.remote,
      stream: socket.stream,
      sink: {
        send: async (b) => {
          if (!handshakeDone) {
            handshakeDone = true
            return socket.sink.send(b)
          }
          sent.push(Uint8Array.from(b))
        },
        close: () => socket.sink.close(),
      },
    }
    const conn = await upgradeDialer(ctx, config(0), spy, PEER)
    await conn.send(Uint8Array.of(1, 2, 3))
    await conn.send(Uint8Array.of(4, 5, 6))
    for (const b of rewrite(sent)) await socket.sink.send(b)
    while (server.ended.length === 0 && server.established.length > 0) {
      if ((await socket.stream.recv()) === null) break
    }
    await healthy(ctx, l.address)
    l.close()
    await server.done
    return { err: server.ended[0], healthy: server.established.length === 2 }
  }

  const cases: [string, (f: Uint8Array[]) => Uint8Array[], string][] = [
    ['a flipped ciphertext bit', (f) => [f[0]!.map((b, i) => (i === 6 ? b ^ 1 : b))], 'ERR_DECRYPT_FAILED'],
    ['a replayed frame', (f) => [f[0]!, f[0]!], 'ERR_DECRYPT_FAILED'],
    ['reordered frames', (f) => [f[1]!, f[0]!], 'ERR_DECRYPT_FAILED'],
    ['a length prefix over the limit', () => [Uint8Array.of(0x00, 0x01, 0x00, 0x11)], 'ERR_FRAME_TOO_LARGE'],
    ['a zero length prefix', () => [Uint8Array.of(0, 0, 0, 0)], 'ERR_FRAME_EMPTY'],
  ]
  it.each(cases)('%s ends that connection with a typed error; the listener keeps serving', async (_n, rewrite, c) => {
    for (const [ctx, at] of [[new DeterministicRuntime({ seed: 8 }), '127.0.0.1:9003'], [new NodeContext(), '127.0.0.1:0']] as const) {
      const run = (x: Context) => tampered(x, at, rewrite)
      const out = ctx instanceof DeterministicRuntime ? await ctx.run(run) : await run(ctx)
      expect(isP2pError(out.err, c as never)).toBe(true)
      expect(out.healthy).toBe(true)
    }
  })

  it('half a frame, then silence: the receiver waits (no error) and the listener keeps serving', async () => {
    const rt = new DeterministicRuntime({ seed: 9 })
    await rt.run(async (ctx) => {
      const out = await Promise.race([
        tampered(ctx, '127.0.0.1:9004', (f) => [f[0]!.subarray(0, 10)]).then(() => 'ended'),
        ctx.sleep(30_000).then(() => 'still waiting'),
      ])
      expect(out).toBe('still waiting')
      const l2 = await ctx.listen('127.0.0.1:9005')
      const s2 = echoServer(ctx, l2, config(1))
      await healthy(ctx, l2.address)
      expect(s2.established).toHaveLength(1)
    })
  })
})

it('binding check: the deterministic runtime gives the stream its ephemeral keys', () => {
  expect(binding.x25519PublicKey(new Uint8Array(32).fill(1)).length).toBe(32)
})


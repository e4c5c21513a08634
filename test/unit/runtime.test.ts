import { describe, expect, it } from 'vitest'
import { DeadlockError, DeterministicRuntime, NodeContext, type Connection, type Context } from '../../src/runtime/index.js'
import { isP2pError } from '../../src/errors.js'

const utf8 = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))

/** Read until `n` bytes arrived (or the stream ended). */
async function readN(c: Connection, n: number): Promise<Uint8Array> {
  const parts: number[] = []
  while (parts.length < n) {
    const chunk = await c.stream.recv()
    if (chunk === null) break
    parts.push(...chunk)
  }
  return Uint8Array.from(parts)
}

describe('DeterministicRuntime', () => {
  it('runs timers in virtual time, in (time, insertion) order', async () => {
    const rt = new DeterministicRuntime({ seed: 1, startMs: 0 })
    const order = await rt.run(async (ctx) => {
      const seen: string[] = []
      await Promise.all([
        ctx.sleep(30).then(() => seen.push(`a@${ctx.now()}`)),
        ctx.sleep(10).then(() => seen.push(`b@${ctx.now()}`)),
        ctx.sleep(10).then(() => seen.push(`c@${ctx.now()}`)),
      ])
      return seen
    })
    expect(order).toEqual(['b@10', 'c@10', 'a@30'])
  })

  it('cancelled timers leave the queue and the others still fire in (time, insertion) order', async () => {
    const rt = new DeterministicRuntime({ seed: 1, startMs: 0 })
    const seen = await rt.run(async (ctx) => {
      const fired: number[] = []
      // Far more cancelled than live timers (the queue compacts past 4,096 cancelled), interleaved.
      const cancels: (() => void)[] = []
      const live: Promise<number>[] = []
      for (let i = 0; i < 10_000; i++) {
        const c = new AbortController()
        ctx.sleep(1_000 + (i % 7), c.signal).catch(() => undefined)
        cancels.push(() => c.abort())
        if (i % 1_000 === 0) live.push(ctx.sleep(500 + ((i * 7919) % 13)).then(() => fired.push(i)))
      }
      for (const c of cancels) c()
      await Promise.all(live)
      return { fired, steps: rt.scheduler.steps, now: ctx.now() }
    })
    // Fired by time (500 + (i * 7919) % 13), then by insertion.
    const expected = Array.from({ length: 10 }, (_, k) => k * 1_000).sort((a, b) => ((a * 7919) % 13) - ((b * 7919) % 13) || a - b)
    expect(seen.fired).toEqual(expected)
    expect(seen.steps).toBe(10) // none of the 10,000 cancelled timers fired
    expect(seen.now).toBeLessThan(1_000)
  })

  it('after: fires once at its virtual time unless cancelled first', async () => {
    const rt = new DeterministicRuntime({ seed: 1, startMs: 0 })
    const seen = await rt.run(async (ctx) => {
      const fired: string[] = []
      const cancel = ctx.after(20, () => fired.push(`cancelled@${ctx.now()}`))
      ctx.after(10, () => fired.push(`a@${ctx.now()}`))
      ctx.after(-5, () => fired.push(`now@${ctx.now()}`)) // a past deadline fires at once
      await ctx.sleep(15)
      cancel()
      cancel() // idempotent
      await ctx.sleep(100)
      return fired
    })
    expect(seen).toEqual(['now@0', 'a@10'])
  })

  it('a day of virtual time passes at once', async () => {
    const rt = new DeterministicRuntime({ seed: 1, startMs: 0 })
    expect(await rt.run(async (ctx) => (await ctx.sleep(86_400_000), ctx.now()))).toBe(86_400_000)
  })

  it('reports a deadlock with the labels of the pending tasks', async () => {
    const rt = new DeterministicRuntime({ seed: 1 })
    const err = await rt
      .run(async (ctx) => {
        const stuck = ctx.spawn('waits-forever', () => new Promise<void>(() => undefined))
        await stuck.done
      })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DeadlockError)
    expect((err as DeadlockError).pending).toEqual(['root', 'waits-forever'])
    expect((err as Error).message).toMatch(/waits-forever/)
  })

  it('aborting a task fires its signal and cancels its sleep', async () => {
    const rt = new DeterministicRuntime({ seed: 1, startMs: 0 })
    const result = await rt.run(async (ctx) => {
      const t = ctx.spawn('sleeper', (signal) => ctx.sleep(1000, signal).then(() => 'woke', () => `aborted@${ctx.now()}`))
      await ctx.sleep(5)
      t.abort(new Error('stop'))
      return t.done
    })
    expect(result).toBe('aborted@5')
  })

  it('seeded randomness: same seed same bytes, another seed other bytes', async () => {
    const draw = (seed: number) => new DeterministicRuntime({ seed }).run(async (ctx) => Buffer.from(ctx.randomBytes(16)).toString('hex'))
    expect(await draw(5)).toBe(await draw(5))
    expect(await draw(5)).not.toBe(await draw(6))
    const ints = await new DeterministicRuntime({ seed: 3 }).run(async (ctx) => Array.from({ length: 1000 }, () => ctx.randomInt(7)))
    expect(Math.min(...ints)).toBe(0)
    expect(Math.max(...ints)).toBe(6)
  })

  it('in-memory sockets: dial, accept, FIFO delivery after the link latency, end of stream on close', async () => {
    const rt = new DeterministicRuntime({ seed: 2, startMs: 0 })
    rt.network.link('10.0.0.2', '10.0.0.1', { latencyMs: 20, jitterMs: 15 })
    const got = await rt.run(async (ctx) => {
      const server = rt.context('10.0.0.1')
      const client = rt.context('10.0.0.2')
      const l = await server.listen('10.0.0.1:9000')
      const [a, b] = await Promise.all([client.dial('10.0.0.1:9000'), l.accept()])
      for (let i = 0; i < 50; i++) await a.sink.send(utf8(String.fromCharCode(65 + (i % 26))))
      a.sink.close()
      const bytes = await readN(b!, 50)
      return { s: text(bytes), end: await b!.stream.recv(), at: ctx.now() }
    })
    expect(got.s).toBe('ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWX')
    expect(got.end).toBeNull()
    expect(got.at).toBeGreaterThanOrEqual(5)
  })

  it('failure injection: refused dials, resets and stalls', async () => {
    const rt = new DeterministicRuntime({ seed: 3, startMs: 0 })
    await rt.run(async (ctx) => {
      const l = await ctx.listen('127.0.0.1:1')
      rt.network.refuse('127.0.0.1:1')
      const refused = await ctx.dial('127.0.0.1:1').catch((e: unknown) => e)
      expect(isP2pError(refused, 'ERR_CLOSED')).toBe(true)
      expect(isP2pError(await ctx.dial('127.0.0.1:2').catch((e: unknown) => e), 'ERR_CLOSED')).toBe(true)
      rt.network.refuse('127.0.0.1:1', false)
      const [a, b] = await Promise.all([ctx.dial('127.0.0.1:1'), l.accept()])
      rt.network.stall('127.0.0.1:1')
      await a.sink.send(utf8('held'))
      const before = ctx.now()
      const waiting = b!.stream.recv()
      await ctx.sleep(1000)
      rt.network.unstall('127.0.0.1:1')
      expect(text(await waiting)).toBe('held')
      expect(ctx.now()).toBeGreaterThanOrEqual(before + 1000)
      rt.network.reset('127.0.0.1:1')
      expect(await b!.stream.recv()).toBeNull()
      expect(isP2pError(await a.sink.send(utf8('x')).catch((e: unknown) => e), 'ERR_CLOSED')).toBe(true)
    })
  })

  it('the auditor digest is a function of the seed', async () => {
    const scenario = async (seed: number) => {
      const rt = new DeterministicRuntime({ seed, startMs: 0, defaultLink: { latencyMs: 5, jitterMs: 4 } })
      await rt.run(async (ctx) => {
        const l = await ctx.listen('127.0.0.1:7')
        const [a, b] = await Promise.all([ctx.dial('127.0.0.1:7'), l.accept()])
        for (let i = 0; i < 20; i++) {
          await a.sink.send(ctx.randomBytes(1 + ctx.randomInt(50)))
          await ctx.sleep(ctx.randomInt(10))
        }
        a.sink.close()
        while ((await b!.stream.recv()) !== null);
      })
      return rt.auditor.digest()
    }
    expect(await scenario(11)).toBe(await scenario(11))
    expect(await scenario(11)).not.toBe(await scenario(12))
  })
})

describe('NodeContext (real loopback sockets)', () => {
  it('echoes bytes over 127.0.0.1 and reports the end of stream', async () => {
    const ctx: Context = new NodeContext()
    const l = await ctx.listen('127.0.0.1:0')
    expect(l.address).toMatch(/^127\.0\.0\.1:\d+$/)
    const [a, b] = await Promise.all([ctx.dial(l.address), l.accept()])
    const payload = new Uint8Array(1 << 20).map((_, i) => i % 251)
    await a.sink.send(payload)
    const got = await readN(b!, payload.length)
    expect(Buffer.compare(Buffer.from(got), Buffer.from(payload))).toBe(0)
    a.sink.close()
    expect(await b!.stream.recv()).toBeNull()
    l.close()
    expect(await l.accept()).toBeNull()
  })

  it('after: fires once unless cancelled first', async () => {
    const ctx = new NodeContext()
    const fired: string[] = []
    const cancel = ctx.after(0, () => fired.push('cancelled'))
    cancel()
    await new Promise<void>((resolve) => ctx.after(5, () => (fired.push('kept'), resolve())))
    // Node runs due timers by deadline: the 0 ms one would have come first had it not been cancelled.
    expect(fired).toEqual(['kept'])
  })

  it('a refused dial is a typed error', async () => {
    const ctx = new NodeContext()
    const l = await ctx.listen('127.0.0.1:0')
    const addr = l.address
    l.close()
    await new Promise((r) => setImmediate(r))
    expect(isP2pError(await ctx.dial(addr).catch((e: unknown) => e), 'ERR_CLOSED')).toBe(true)
  })
})

describe('DeterministicRuntime link loss', () => {
  it('a lost write arrives one retransmission later, in order', async () => {
    const rt = new DeterministicRuntime({ seed: 9, startMs: 0 })
    rt.network.link('10.0.0.2', '10.0.0.1', { latencyMs: 10, lossRate: 1, retransmitMs: 200 })
    const at = await rt.run(async (ctx) => {
      const l = await rt.context('10.0.0.1').listen('10.0.0.1:1')
      const [a, b] = await Promise.all([rt.context('10.0.0.2').dial('10.0.0.1:1'), l.accept()])
      const sentAt = ctx.now()
      await a.sink.send(Uint8Array.of(1))
      await b!.stream.recv()
      return ctx.now() - sentAt
    })
    expect(at).toBe(210)
  })
})

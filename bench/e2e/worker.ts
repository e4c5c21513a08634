/**
 * A child process of the end-to-end benchmark: hosts the listening side, the dialing side, or both
 * (the one-process variant) of one scenario for one candidate, driven by the harness over IPC
 * (`Command` in, `Reply` out); `pause` stops the load and a later `start` resumes it (the gate's
 * windows). Loads only the candidate it is asked for; the quorumnet backend is whatever `P2P_NATIVE`
 * in this process's environment selects, and the quorumnet build is `E2E_QUORUMNET_ROOT`'s
 * (`impls/quorumnet.ts`).
 */
import { CONN_CONCURRENCY, FANOUT_PEERS, SCENARIOS, VOTE_EVERY_MS, VOTE_SIZE, type Command, type Mark, type Reply, type SocketScenario, type WorkerImpl } from './common.js'
import type { Conn, Impl, Served, Tuning } from './impls/types.js'

const loaders: Record<WorkerImpl, () => Promise<Impl>> = {
  'raw-tcp': async () => (await import('./impls/raw.js')).raw,
  quorumnet: async () => (await import('./impls/quorumnet.js')).quorumnet,
  libp2p: async () => (await import('./impls/libp2p.js')).libp2p,
  'secret-stream': async () => (await import('./impls/secretstream.js')).secretStream,
}

let count = 0
let bytes = 0
let errors = 0
let latencies: number[] = []
const closers: (() => unknown)[] = []
let load: { start(): void; stop(): Promise<void> } | undefined

const counting = (c: Conn) =>
  c.onMessage((m) => {
    count++
    bytes += m.length
  })

/**
 * Send `msg` back to back, waiting whenever the candidate pushes back. Every 10 ms the loop also lets
 * the event loop turn (timers, incoming data, the harness's commands): a send whose socket write
 * completes at once resolves through process.nextTick and microtasks only, so without this a
 * sender that is slower than its receiver never returns to the event loop.
 */
function pump(send: (m: Uint8Array) => void | Promise<unknown>, msg: Uint8Array) {
  let running = false
  /** Which start() the running loop belongs to: a loop still awaiting a send after a pause never resumes. */
  let generation = 0
  let done: Promise<void> = Promise.resolve()
  return {
    start() {
      running = true
      const mine = ++generation
      done = (async () => {
        let n = 0
        let turned = performance.now()
        while (running && mine === generation) {
          const p = send(msg)
          if (p) await p
          if ((++n & 63) === 0 && performance.now() - turned >= 10) {
            await new Promise((r) => setImmediate(r))
            turned = performance.now()
          }
        }
      })().catch(() => void errors++)
    },
    async stop() {
      running = false
      await Promise.race([done, new Promise((r) => setTimeout(r, 2_000))])
    },
  }
}

const tuningOf = (s: SocketScenario): Tuning => ({ messageSize: SCENARIOS[s].size, servers: s === 'fanout' ? FANOUT_PEERS : 1, clients: s === 'vote' ? 2 : 1 })

/** Wall-clock time in ms with sub-millisecond resolution, the same clock in every process of the machine. */
const wallMs = () => performance.timeOrigin + performance.now()

async function listen(impl: Impl, scenario: Command & { cmd: 'listen' }): Promise<unknown> {
  const tuning = tuningOf(scenario.scenario)
  const serve = async (s: Promise<Served>) => {
    const served = await s
    closers.push(() => served.close())
    return served.info
  }
  switch (scenario.scenario) {
    case 'throughput':
    case 'rate':
      return serve(impl.listen(0, tuning.clients, counting, tuning))
    case 'rtt':
    case 'rtt-awake':
      return serve(impl.listen(0, tuning.clients, (c) => c.onMessage((m) => void c.send(m)), tuning))
    case 'fanout':
      return Promise.all(Array.from({ length: FANOUT_PEERS }, (_, i) => serve(impl.listen(i, tuning.clients, counting, tuning))))
    case 'conns':
      return serve(impl.handshakeServer())
    case 'vote':
      // Votes are the small messages; the flood's are counted as bytes only.
      return serve(
        impl.listen(0, tuning.clients, (c) =>
          c.onMessage((m) => {
            if (m.length !== VOTE_SIZE) return void (bytes += m.length)
            latencies.push((wallMs() - new DataView(m.buffer, m.byteOffset, m.byteLength).getFloat64(0)) * 1000)
            count++
          }),
        tuning),
      )
  }
}

async function dial(impl: Impl, cmd: Command & { cmd: 'dial' }): Promise<void> {
  const tuning = tuningOf(cmd.scenario)
  const msg = new Uint8Array(tuning.messageSize).fill(7)
  switch (cmd.scenario) {
    case 'throughput':
    case 'rate': {
      const c = await impl.dial(cmd.info, 0, tuning)
      closers.push(() => c.close())
      load = pump((m) => c.send(m), msg)
      return
    }
    case 'fanout': {
      const g = await impl.group(cmd.info as unknown[], tuning)
      closers.push(() => g.close())
      load = pump((m) => g.send(m), msg)
      return
    }
    case 'rtt':
    case 'rtt-awake': {
      const c = await impl.dial(cmd.info, 0, tuning)
      closers.push(() => c.close())
      let running = false
      let inFlight = false
      let sentAt = 0
      const next = () => {
        inFlight = true
        sentAt = performance.now()
        const p = c.send(msg)
        if (p) p.catch(() => void errors++)
      }
      c.onMessage(() => {
        inFlight = false
        latencies.push((performance.now() - sentAt) * 1000)
        count++
        if (running) next()
      })
      load = {
        start: () => {
          running = true
          if (!inFlight) next()
        },
        // Wait for the last request's answer, so that a later start has exactly one request in flight.
        stop: async () => {
          running = false
          for (let i = 0; inFlight && i < 400; i++) await new Promise((r) => setTimeout(r, 5))
        },
      }
      return
    }
    case 'vote': {
      const flooder = await impl.dial(cmd.info, 0, tuning)
      const voter = await impl.dial(cmd.info, 1, tuning)
      closers.push(() => flooder.close(), () => voter.close())
      const flood = pump((m) => flooder.send(m), msg)
      let timer: ReturnType<typeof setInterval> | undefined
      load = {
        start: () => {
          flood.start()
          timer = setInterval(() => {
            const vote = new Uint8Array(VOTE_SIZE)
            new DataView(vote.buffer).setFloat64(0, wallMs())
            const p = voter.send(vote)
            if (p) p.catch(() => void errors++)
          }, VOTE_EVERY_MS)
        },
        stop: async () => {
          clearInterval(timer)
          await flood.stop()
        },
      }
      return
    }
    case 'conns': {
      const clients = await Promise.all(Array.from({ length: CONN_CONCURRENCY }, (_, i) => impl.handshakeClient(cmd.info, i)))
      for (const c of clients) closers.push(() => c.close())
      let running = false
      const loops: Promise<void>[] = []
      load = {
        start: () => {
          running = true
          for (const c of clients) {
            loops.push(
              (async () => {
                while (running) {
                  try {
                    await c.once()
                    count++
                  } catch {
                    errors++
                  }
                }
              })(),
            )
          }
        },
        stop: async () => {
          running = false
          await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 5_000))])
        },
      }
      return
    }
  }
}

async function handle(cmd: Command): Promise<unknown> {
  switch (cmd.cmd) {
    case 'listen':
      return listen(await loaders[cmd.impl](), cmd)
    case 'dial':
      return dial(await loaders[cmd.impl](), cmd)
    case 'start':
      load?.start()
      return null
    case 'pause':
      await load?.stop()
      return null
    case 'mark': {
      const cpu = process.cpuUsage()
      const m: Mark & { errors: number } = { t: performance.now(), count, bytes, errors, latencies, cpuUs: cpu.user + cpu.system }
      latencies = []
      return m
    }
    case 'rss':
      // Peak resident set of this worker process so far, MB (it hosts one scenario's side, then exits).
      return process.resourceUsage().maxRSS / 1024
    case 'exit':
      return null
    case 'stop':
      await load?.stop()
      for (const c of closers.splice(0).reverse()) await Promise.race([Promise.resolve(c()).catch(() => undefined), new Promise((r) => setTimeout(r, 3_000))])
      return null
  }
}

process.on('message', (cmd: Command) => {
  if (cmd.cmd === 'exit') process.exit(0)
  handle(cmd).then(
    (result) => process.send!({ id: cmd.id, ok: true, result } satisfies Reply),
    (e: unknown) => process.send!({ id: cmd.id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) } satisfies Reply),
  )
})
// The harness went away: nothing left to do.
process.on('disconnect', () => process.exit(0))
process.send!({ id: 0, ok: true, result: 'ready' } satisfies Reply)

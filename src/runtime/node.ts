/**
 * `NodeContext`: the real runtime: wall-clock time, node:crypto randomness, node:net TCP, timers.
 *
 * ## Design
 * This is the only module that touches `Date.now`, timers, OS randomness and `node:net`
 * (ARCHITECTURE.md rule 2). A socket's reads go into a `ChunkQueue`; reading is paused while more
 * than `readHighWaterBytes` wait unread, so a slow consumer pushes back on its peer through TCP.
 * Writes resolve once the kernel has accepted them (or after `drain`), so a sender that awaits
 * `send` never buffers without bound. A listener hands each connection to `accept()` as it arrives,
 * still unread; it holds at most `MAX_UNACCEPTED` for a caller that is not accepting, and closes
 * further ones at once.
 *
 * ## Not provided
 * Timeouts on dial or reads: callers race them against `sleep` where the protocol needs one.
 *
 * ## Example
 * ```ts
 * const ctx = new NodeContext({ tcpNoDelay: true })
 * const l = await ctx.listen('127.0.0.1:0')
 * ```
 */
import { randomBytes, randomInt } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, connect, type Socket } from 'node:net'
import { Registry } from 'prom-client'
import { P2pError } from '../errors.js'
import { binding } from '../native/load.js'
import { formatAddress, parseAddress, sleepAfter, type Address, type Connection, type Context, type Handle, type Listener } from './context.js'
import { ChunkQueue } from './queue.js'

/** Options of a `NodeContext`; every field is optional. */
export interface NodeContextOptions {
  /** Disable Nagle's algorithm on every socket (default true: frames are already batched). */
  tcpNoDelay?: boolean
  /**
   * Stop reading a socket while this many bytes wait unread (default 256 KiB); the kernel's socket
   * buffer holds what comes next. A larger mark only keeps more chunks waiting in memory: with 16 peers
   * streaming into one process, 4 MiB gave 283 MB of RSS and 434k deliveries/s, 256 KiB 191 MB and
   * 494k (bench:e2e fanout); 1 MiB and 100 B streams did not get slower either (554 -> 624 MB/s,
   * 1.06M -> 1.14M msgs/s in the same comparison). Below 128 KiB 100 B streams slow down.
   */
  readHighWaterBytes?: number
  /** Where metrics are registered (default: a new `Registry`). */
  registry?: Registry
  /** Source IP of outgoing connections (default: the OS's choice), e.g. another 127.0.0.0/8 address. */
  localAddress?: string
}

/** /proc/net/tcp{,6} as last read (lower case), and when. */
const procTcp = { at: -Infinity, text: '', found: new Map<string, number | undefined>() }
/** How long a reading of /proc/net/tcp serves every socket, ms (a reading costs milliseconds). */
const PROC_TCP_MS = 250
/** How long a write must look stuck from user space before /proc/net/tcp is read for it, ms. */
const PROC_PROBE_AFTER_MS = 250

/**
 * The kernel's unacknowledged send queue of `socket`: from the addon (an ioctl) when it is loaded,
 * else from /proc/net/tcp once the write has looked stuck for PROC_PROBE_AFTER_MS; undefined where
 * neither can tell.
 */
function sendQueueOf(socket: Socket, stuckMs: number): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd
  if (binding.socketSendQueue && typeof fd === 'number' && fd >= 0) return binding.socketSendQueue(fd) ?? undefined
  return stuckMs >= PROC_PROBE_AFTER_MS ? kernelSendQueue(socket) : undefined
}

/** A socket address as /proc/net/tcp{,6} writes it: each 32-bit word of the IP in host (little-endian) order, then the port. */
function procAddress(ip: string, port: number): string | undefined {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(ip)
  const hex2 = (n: number) => n.toString(16).padStart(2, '0')
  const portHex = port.toString(16).padStart(4, '0')
  if (v4) {
    const word = [v4[4], v4[3], v4[2], v4[1]].map((x) => hex2(Number(x))).join('')
    // An IPv4 socket is listed in tcp; an IPv4-mapped one of a dual-stack socket in tcp6.
    return `${word}:${portHex}|0000000000000000ffff0000${word}:${portHex}`
  }
  if (!ip.includes(':')) return undefined
  const [head = '', tail = ''] = ip.split('::')
  const groups = [...(head ? head.split(':') : []), ...Array(8 - (head ? head.split(':').length : 0) - (tail ? tail.split(':').length : 0)).fill('0'), ...(tail ? tail.split(':') : [])]
  if (groups.length !== 8) return undefined
  const bytes = groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff])
  let out = ''
  for (let w = 0; w < 16; w += 4) out += [bytes[w + 3]!, bytes[w + 2]!, bytes[w + 1]!, bytes[w]!].map(hex2).join('')
  return `${out}:${portHex}`
}

/**
 * Bytes written to `socket` that the other side's kernel has not acknowledged yet (Linux: the
 * tx_queue column of /proc/net/tcp, read at most every PROC_TCP_MS for all sockets and searched for
 * this socket's line); undefined elsewhere. Unlike what Node sees, it shrinks segment by segment as a slow reader reads, where the
 * kernel wakes a blocked writer only once half its send buffer has drained.
 */
function kernelSendQueue(socket: Socket): number | undefined {
  if (process.platform !== 'linux') return undefined
  const { localAddress, localPort, remoteAddress, remotePort } = socket
  if (!localAddress || !localPort || !remoteAddress || !remotePort) return undefined
  const now = performance.now()
  if (now - procTcp.at >= PROC_TCP_MS) {
    procTcp.at = now
    procTcp.text = ''
    procTcp.found.clear()
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      try {
        procTcp.text += readFileSync(file, 'latin1').toLowerCase()
      } catch {
        // not Linux, or no IPv6: that table is simply absent
      }
    }
  }
  const id = `${localAddress}:${localPort} ${remoteAddress}:${remotePort}`
  // One search of this reading per socket: callers may ask on every send while a peer is stuck.
  if (procTcp.found.has(id)) return procTcp.found.get(id)
  let queued: number | undefined
  const [l4, l6] = (procAddress(localAddress, localPort) ?? '').split('|')
  const [r4, r6] = (procAddress(remoteAddress, remotePort) ?? '').split('|')
  for (const key of [`${l4} ${r4} `, l6 && r6 ? `${l6} ${r6} ` : undefined]) {
    if (!key) continue
    const at = procTcp.text.indexOf(` ${key}`)
    // The line goes on: "<st> <tx_queue>:<rx_queue> ...".
    if (at >= 0) {
      queued = parseInt(procTcp.text.slice(at + key.length + 1, at + key.length + 40).split(/\s+/)[1]!.split(':')[0]!, 16)
      break
    }
  }
  procTcp.found.set(id, queued)
  return queued
}

/**
 * A `Connection` over `socket`. An accepted socket arrives paused (`pauseOnConnect`) and starts
 * reading at the first `recv()`, so a connection refused at accept is closed without reading a byte.
 */
function wrap(socket: Socket, highWater: number): Connection {
  const queue = new ChunkQueue()
  let started = false
  let paused = false
  socket.on('data', (chunk: Buffer) => {
    queue.push(chunk)
    if (!paused && queue.bytes > highWater) {
      paused = true
      socket.pause()
    }
  })
  // Write progress: bytes whose write completed, what libuv still holds of the write in progress, and
  // the kernel's unacknowledged send queue (kernelSendQueue). A change in any of them is progress.
  const raw = socket as unknown as { _handle?: { writeQueueSize?: number } | null }
  let completed = 0
  let last = ''
  let lastAt = performance.now()
  let lastQueue: number | undefined
  let ticks = 0
  const end = () => queue.end()
  socket.on('end', end)
  socket.on('close', end)
  socket.on('error', end)
  const remote = formatAddress(socket.remoteAddress ?? 'unknown', socket.remotePort ?? 0)
  return {
    remote,
    isRealSocket: true,
    stream: {
      recv: async () => {
        if (!started) {
          started = true
          socket.resume()
        }
        const chunk = await queue.shift()
        // Resume once the reader is RESUME_BELOW_BYTES back under the mark: the socket then moves a few
        // chunks at a time, so a slow reader keeps the sender's socket making progress (it is not taken
        // for stalled), without a pause and resume around every chunk.
        if (paused && queue.bytes <= highWater - Math.min(RESUME_BELOW_BYTES, highWater / 2)) {
          paused = false
          socket.resume()
        }
        return chunk
      },
    },
    sink: {
      send: (bytes: Uint8Array) =>
        new Promise<void>((resolve, reject) => {
          if (socket.destroyed || !socket.writable) return reject(new P2pError('ERR_CLOSED', 'connection closed'))
          socket.write(bytes, (err) => {
            if (err) return reject(new P2pError('ERR_CLOSED', err.message, { cause: err }))
            completed += bytes.length
            resolve()
          })
        }),
      progress: () => {
        const t = performance.now()
        const seen = `${completed}:${raw._handle?.writeQueueSize ?? 0}`
        if (seen !== last) {
          last = seen
          lastAt = t
          return ++ticks
        }
        // Nothing moved in user space: ask the kernel (cheap with the addon; /proc only once stuck a while).
        const q = sendQueueOf(socket, t - lastAt)
        if (q !== undefined && q !== lastQueue) {
          lastQueue = q
          ticks++
        }
        return ticks
      },
      close: () => {
        socket.destroy()
        queue.end()
      },
    },
  }
}

/** How far under its high-water mark a paused socket's unread bytes must fall before it reads again. */
const RESUME_BELOW_BYTES = 256 << 10

/** `NodeContextOptions.readHighWaterBytes` by default. */
const DEFAULT_READ_HIGH_WATER = 256 << 10

/** How long (ms of wall time) paced loops may run between two turns of the event loop. */
export const PACE_MS = 1

/**
 * Pacing state, shared by the whole process: when a paced loop last let the event loop turn, and how
 * many `pace()` calls may pass before the clock is read again. A clock read costs about 80 ns here,
 * as much as the rest of a small send: with a stride, a loop of 100 B sends reads it once per up to
 * MAX_PACE_STRIDE calls, while a loop whose calls take longer reads it on every call.
 */
const pacing = { turnedAt: performance.now(), checkedAt: performance.now(), stride: 1, skip: 0 }
/** Most `pace()` calls between two clock reads. */
const MAX_PACE_STRIDE = 16
/** The stride aims for a clock read about every PACE_MS / PACE_CHECKS of wall time. */
const PACE_CHECKS = 8

/** Connections a listener holds for `accept()` before it closes new ones at once. */
const MAX_UNACCEPTED = 1024

/** The real runtime: wall-clock time, OS randomness, timers and TCP sockets. */
export class NodeContext implements Context {
  /** Where metrics are registered: `opts.registry`, or a new `Registry`. */
  readonly registry: Registry
  readonly #noDelay: boolean
  readonly #highWater: number
  readonly #localAddress: string | undefined

  /** A context with the given socket options and registry. */
  constructor(opts: NodeContextOptions = {}) {
    this.registry = opts.registry ?? new Registry()
    this.#noDelay = opts.tcpNoDelay ?? true
    this.#highWater = opts.readHighWaterBytes ?? DEFAULT_READ_HIGH_WATER
    this.#localAddress = opts.localAddress
  }

  now(): number {
    return Date.now()
  }

  /**
   * Yields once `PACE_MS` of wall time have passed since any paced loop of this process last let the
   * event loop turn: the budget is shared by every context and loop in the process (several nodes in
   * one process share one event loop), so timers wait at most about `PACE_MS` plus one iteration.
   * The clock is read on every call only while calls are slow: while they take under PACE_MS /
   * PACE_CHECKS each, it is read every few calls (up to MAX_PACE_STRIDE), so a loop whose iterations suddenly get
   * much slower may run up to that many of them past the budget before it yields.
   */
  pace(): Promise<void> | undefined {
    if (pacing.skip > 0) {
      pacing.skip--
      return undefined
    }
    const now = performance.now()
    // Calls since the last read took (now - checkedAt) / stride each: read again after about
    // PACE_MS / PACE_CHECKS of them (one call at least; at most MAX_PACE_STRIDE, also when perCall is 0).
    const perCall = (now - pacing.checkedAt) / pacing.stride
    pacing.stride = Math.max(1, Math.min(MAX_PACE_STRIDE, Math.floor(PACE_MS / PACE_CHECKS / perCall)))
    pacing.skip = pacing.stride - 1
    pacing.checkedAt = now
    if (now - pacing.turnedAt < PACE_MS) return undefined
    return new Promise((resolve) =>
      setImmediate(() => {
        pacing.turnedAt = performance.now()
        resolve()
      }),
    )
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepAfter(this, ms, signal)
  }

  after(ms: number, fire: () => void): () => void {
    const timer = setTimeout(fire, Math.max(0, ms))
    return () => clearTimeout(timer)
  }

  randomBytes(n: number): Uint8Array {
    return new Uint8Array(randomBytes(n))
  }

  randomInt(max: number): number {
    return randomInt(max)
  }

  spawn<T>(label: string, fn: (signal: AbortSignal) => Promise<T>): Handle<T> {
    const controller = new AbortController()
    const done = Promise.resolve().then(() => fn(controller.signal))
    done.catch(() => undefined)
    return { label, done, abort: (reason?: unknown) => controller.abort(reason) }
  }

  /**
   * Listen on TCP at `address` (port 0 picks a free port). Throws `RangeError` for a malformed
   * address; rejects with `ERR_CLOSED` if it cannot bind (e.g. the port is in use).
   */
  listen(address: Address): Promise<Listener> {
    const { host, port } = parseAddress(address)
    const server = createServer({ noDelay: this.#noDelay, pauseOnConnect: true })
    const pending: Connection[] = []
    const waiters: ((c: Connection | null) => void)[] = []
    let closed = false
    server.on('connection', (socket) => {
      const c = wrap(socket, this.#highWater)
      const w = waiters.shift()
      if (w) w(c)
      else if (pending.length < MAX_UNACCEPTED) pending.push(c)
      else socket.destroy() // nobody is accepting: refuse rather than queue without bound
    })
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new P2pError('ERR_CLOSED', `listen ${address}: ${err.message}`, { cause: err })))
      server.listen(port, host, () => {
        const a = server.address()
        const bound = typeof a === 'object' && a ? formatAddress(a.address, a.port) : address
        resolve({
          address: bound,
          accept: () => {
            const c = pending.shift()
            if (c) return Promise.resolve(c)
            if (closed) return Promise.resolve(null)
            return new Promise((r) => waiters.push(r))
          },
          close: () => {
            if (closed) return
            closed = true
            server.close()
            for (const w of waiters.splice(0)) w(null)
          },
        })
      })
    })
  }

  dial(address: Address): Promise<Connection> {
    const { host, port } = parseAddress(address)
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: this.#noDelay, ...(this.#localAddress ? { localAddress: this.#localAddress } : {}) })
      const onError = (err: Error) => reject(new P2pError('ERR_CLOSED', `dial ${address}: ${err.message}`, { cause: err }))
      socket.once('error', onError)
      socket.once('connect', () => {
        socket.off('error', onError)
        resolve(wrap(socket, this.#highWater))
      })
    })
  }
}

/**
 * A port that is free on `host` right now (bound to port 0, then released), for a node, a test or a
 * benchmark to listen on next. Another process may take it in between: use it for local clusters,
 * not where a race matters.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, host, () => {
      const a = s.address()
      const port = typeof a === 'object' && a ? a.port : 0
      s.close(() => resolve(port))
    })
  })
}

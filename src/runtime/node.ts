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
import { createServer, connect, type Socket } from 'node:net'
import { Registry } from 'prom-client'
import { P2pError } from '../errors.js'
import { formatAddress, parseAddress, type Address, type Connection, type Context, type Handle, type Listener } from './context.js'
import { ChunkQueue } from './queue.js'

/** Options of a `NodeContext`; every field is optional. */
export interface NodeContextOptions {
  /** Disable Nagle's algorithm on every socket (default true: frames are already batched). */
  tcpNoDelay?: boolean
  /** Stop reading a socket while this many bytes wait unread (default 4 MiB). */
  readHighWaterBytes?: number
  /** Where metrics are registered (default: a new `Registry`). */
  registry?: Registry
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
  // Write progress: bytes whose write completed, and what libuv still holds of the write in progress
  // (it shrinks as the kernel takes bytes). A change in either is progress.
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: number } | null })
  let completed = 0
  let lastCompleted = -1
  let lastQueued = -1
  let ticks = 0
  const end = () => queue.end()
  socket.on('end', end)
  socket.on('close', end)
  socket.on('error', end)
  const remote = formatAddress(socket.remoteAddress ?? 'unknown', socket.remotePort ?? 0)
  return {
    remote,
    stream: {
      recv: async () => {
        if (!started) {
          started = true
          socket.resume()
        }
        const chunk = await queue.shift()
        if (paused && queue.bytes <= highWater / 2) {
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
        const queued = handle._handle?.writeQueueSize ?? 0
        if (queued !== lastQueued || completed !== lastCompleted) {
          lastQueued = queued
          lastCompleted = completed
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

/** How long (ms of wall time) paced loops may run between two turns of the event loop. */
export const PACE_MS = 3

/** When a paced loop last let the event loop turn (shared by the whole process). */
const pacing = { turnedAt: performance.now() }

/** Connections a listener holds for `accept()` before it closes new ones at once. */
const MAX_UNACCEPTED = 1024

/** The real runtime: wall-clock time, OS randomness, timers and TCP sockets. */
export class NodeContext implements Context {
  /** Where metrics are registered: `opts.registry`, or a new `Registry`. */
  readonly registry: Registry
  readonly #noDelay: boolean
  readonly #highWater: number

  /** A context with the given socket options and registry. */
  constructor(opts: NodeContextOptions = {}) {
    this.registry = opts.registry ?? new Registry()
    this.#noDelay = opts.tcpNoDelay ?? true
    this.#highWater = opts.readHighWaterBytes ?? 4 << 20
  }

  now(): number {
    return Date.now()
  }

  /**
   * Yields once `PACE_MS` of wall time have passed since any paced loop of this process last let the
   * event loop turn: the budget is shared by every context and loop in the process (several nodes in
   * one process share one event loop), so timers wait at most about `PACE_MS` plus one iteration.
   */
  pace(): Promise<void> | undefined {
    if (performance.now() - pacing.turnedAt < PACE_MS) return undefined
    return new Promise((resolve) =>
      setImmediate(() => {
        pacing.turnedAt = performance.now()
        resolve()
      }),
    )
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, Math.max(0, ms))
      const onAbort = () => {
        clearTimeout(timer)
        reject(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
    })
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
      const socket = connect({ host, port, noDelay: this.#noDelay })
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

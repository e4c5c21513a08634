/**
 * The runtime `Context`: the only door to the outside world (clock, randomness, timers, tasks,
 * sockets, metrics).
 *
 * ## Design
 * Every other module receives a `Context` instead of touching `Date.now`, `Math.random`, timers or
 * `node:net` (ARCHITECTURE.md, rule 2). Two implementations: `NodeContext` (real time, real TCP) and
 * `DeterministicContext` (virtual time, seeded randomness, in-memory sockets), so the same code runs on
 * loopback and replays exactly from a seed.
 *
 * A connection is a byte `Sink` (ordered writes) and a byte `Stream` (chunks as they arrive, `null` at
 * end of stream). Chunk boundaries carry no meaning: framing is the caller's job.
 *
 * ## Not provided
 * Datagram sockets, DNS, TLS: peers are addressed by IP literal and encryption is the stream layer's.
 *
 * ## Example
 * ```ts
 * const task = ctx.spawn('ticker', async (signal) => { while (!signal.aborted) await ctx.sleep(1000) })
 * task.abort()
 * ```
 */
import type { Registry } from 'prom-client'

/** Where to listen or dial: an IP literal and a port ("127.0.0.1:3000", "[::1]:3000"). */
export type Address = string

/** The writing half of a connection. */
export interface Sink {
  /** Write bytes in order. Rejects with `ERR_CLOSED` once the connection is closed. */
  send(bytes: Uint8Array): Promise<void>
  /** Close the connection (both directions). Idempotent. */
  close(): void
  /**
   * A counter that moves whenever the other side takes written bytes (the OS accepted some), so a
   * caller can tell a slow reader (it moves, however slowly) from one that stopped reading (it does
   * not). Optional: without it, a write in progress counts as no progress.
   */
  progress?(): number
}

/** The reading half of a connection. */
export interface Stream {
  /**
   * The next chunk, or `null` once the peer closed (or the connection was reset). The chunk belongs
   * to the caller, who may modify it (the stream layer decrypts in place).
   */
  recv(): Promise<Uint8Array | null>
}

/** A connected byte stream: a `Sink` to write, a `Stream` to read. */
export interface Connection {
  /** Where bytes are written. */
  readonly sink: Sink
  /** Where received bytes are read, in chunks of any size. */
  readonly stream: Stream
  /** The remote address, as text. */
  readonly remote: Address
  /**
   * True for an operating-system socket (`NodeContext`); absent on the deterministic runtime. On a real
   * socket, work for the connection may run on the libuv thread pool and finish at a time of its own
   * (which would break a deterministic replay), and `sink.send` no longer refers to its bytes once it
   * has resolved (the kernel has them), so the writer may reuse the buffer.
   */
  readonly isRealSocket?: boolean
}

/** A bound address accepting incoming connections. */
export interface Listener {
  /** The bound address (the port is filled in when 0 was asked for). */
  readonly address: Address
  /** The next incoming connection, or `null` once the listener is closed. */
  accept(): Promise<Connection | null>
  /**
   * Stop accepting: waiting and later `accept()` calls resolve with `null` once connections already
   * queued are taken. Connections already established stay open. Idempotent.
   */
  close(): void
}

/** A spawned task: its result, and a way to stop it. */
export interface Handle<T> {
  /** The label given to `spawn`. */
  readonly label: string
  /** Settles with the task's result, or rejects with its error. */
  readonly done: Promise<T>
  /** Ask the task to stop: its `signal` fires; the task decides how to end. */
  abort(reason?: unknown): void
}

/**
 * The abort reason for a sleep that is no longer needed (`controller.abort(TIMER_CANCELLED)`): a shared
 * value, so cancelling a timer does not build a DOMException with a stack trace each time.
 */
export const TIMER_CANCELLED: unique symbol = Symbol('timer cancelled')

/**
 * `Context.sleep` on top of the context's `after` (both runtimes implement it so): resolves after `ms`,
 * rejects with the signal's reason as soon as it fires (the timer is then cancelled).
 */
export function sleepAfter(ctx: Pick<Context, 'after'>, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const cancel = ctx.after(ms, () => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    })
    const onAbort = () => {
      cancel()
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** The clock, randomness, tasks, sockets and metrics registry a component uses. */
export interface Context {
  /** Milliseconds since the Unix epoch (virtual in the deterministic runtime). */
  now(): number
  /** Resolves after `ms` milliseconds (rejects early with the signal's reason if it fires). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /**
   * Call `fire` once after `ms` milliseconds, unless the returned function is called first (then
   * never). For deadlines that are usually cancelled (a handshake's, a request's): cheaper than a
   * `sleep` with its own `AbortController`.
   */
  after(ms: number, fire: () => void): () => void
  /** `n` random bytes: cryptographic in the Node runtime, from the seed in the deterministic one. */
  randomBytes(n: number): Uint8Array
  /** A uniform random integer in [0, max). */
  randomInt(max: number): number
  /**
   * Undefined when the caller may go on; else a promise that resolves once the event loop has had a
   * turn (timers, sockets). Loops that can run without waiting for I/O (a send that resolves at once,
   * a receive loop over a full buffer) call it every iteration, so they never starve the process.
   */
  pace(): Promise<void> | undefined
  /** Run `fn` as a labelled task; its signal fires on `abort()`. */
  spawn<T>(label: string, fn: (signal: AbortSignal) => Promise<T>): Handle<T>
  /**
   * Listen at `address`; rejects if it cannot bind (`ERR_CLOSED` in `NodeContext`, `ERR_INVALID_ARGUMENT`
   * for an address already in use in the deterministic runtime).
   */
  listen(address: Address): Promise<Listener>
  /** Connect; rejects with `ERR_CLOSED` if refused or unreachable. */
  dial(address: Address): Promise<Connection>
  /** Where metrics are registered. */
  readonly registry: Registry
}

/** Split "host:port" or "[v6]:port"; throws `RangeError` if `address` has neither form. */
export function parseAddress(address: Address): {
  /** The host, without brackets. */
  host: string
  /** The port number. */
  port: number
} {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address)
  if (!m) throw new RangeError(`not an address: ${address}`)
  return { host: m[1]!, port: Number(m[2]) }
}

/** The `Address` of `host` and `port`: "host:port", or "[host]:port" when `host` contains a colon (IPv6). */
export function formatAddress(host: string, port: number): Address {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

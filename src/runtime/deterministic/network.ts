/**
 * In-memory sockets for the deterministic runtime, with per-pair latency, jitter and failure injection.
 *
 * ## Design
 * `listen(address)` registers a listener; `dial(address)` creates a connected pair of pipes after one
 * link latency, or rejects as refused. A write is copied, recorded by the auditor and delivered to the
 * other end at `now + latency (+ jitter)` through the scheduler, never earlier than the previous write
 * on that direction, so each direction is FIFO like TCP. Closing delivers an end-of-stream after the
 * data in flight. Faults: `refuse(address)` (dials fail), `stall(address)` (deliveries to and from
 * that address wait until `unstall`), `reset(address)` (every connection touching it ends at once,
 * data in flight is lost).
 *
 * ## Not provided
 * Bandwidth limits and message loss: these are byte streams, so loss shows up as retransmission
 * delay (`lossRate`), never as missing bytes; the simulated network models message loss.
 *
 * ## Example
 * `runtime.network.link('10.0.0.1', '10.0.0.2', { latencyMs: 20, jitterMs: 5 })`
 */
import { P2pError } from '../../errors.js'
import { ChunkQueue } from '../queue.js'
import { formatAddress, parseAddress, type Address, type Connection, type Listener, type Sink, type Stream } from '../context.js'
import type { Auditor } from './auditor.js'
import type { Scheduler } from './scheduler.js'
import type { SeededRng } from '../rng.js'

/** The behaviour of a one-way link between two hosts of the deterministic runtime. */
export interface LinkOptions {
  /** Delay of every write, ms. */
  latencyMs: number
  /** Random extra delay, a whole number of ms from -jitterMs to +jitterMs drawn from the seed (default 0); the total delay is never below 0. */
  jitterMs?: number
  /**
   * Probability that a write is "lost" and retransmitted, as TCP would: it arrives `retransmitMs`
   * later (and, the stream being FIFO, so does everything written after it).
   */
  lossRate?: number
  /** Retransmission delay of a lost write (default 200 ms, TCP's minimum RTO). */
  retransmitMs?: number
}

class Pipe {
  /** When the last delivery in this direction is due (deliveries never overtake each other). */
  lastAt = 0
  readonly inbox = new ChunkQueue()
  closed = false
  constructor(
    readonly id: string,
    readonly localHost: string,
    readonly remoteHost: string,
  ) {}
}

/** A connection until both ends closed (what `reset` ends). */
class LiveConnection {
  constructor(
    readonly id: string,
    /** Both ends' addresses. */
    readonly hosts: [Address, Address],
    readonly ab: Pipe,
    readonly ba: Pipe,
  ) {}
}

class MemListener implements Listener {
  readonly incoming = new ChunkQueue()
  readonly pending: Connection[] = []
  readonly waiters: ((c: Connection | null) => void)[] = []
  closed = false
  constructor(
    readonly address: Address,
    private readonly onClose: () => void,
  ) {}
  offer(c: Connection): void {
    const w = this.waiters.shift()
    if (w) w(c)
    else this.pending.push(c)
  }
  accept(): Promise<Connection | null> {
    const c = this.pending.shift()
    if (c) return Promise.resolve(c)
    if (this.closed) return Promise.resolve(null)
    return new Promise((resolve) => this.waiters.push(resolve))
  }
  close(): void {
    if (this.closed) return
    this.closed = true
    this.onClose()
    for (const w of this.waiters.splice(0)) w(null)
  }
}

interface Wire {
  write(out: Pipe, hosts: [Address, Address], bytes: Uint8Array): Promise<void>
  close(out: Pipe, inp: Pipe, entry: LiveConnection): void
}

/**
 * One end of an in-memory connection, writing into `out` (read by the peer) and reading from `inp`:
 * its own `sink` and `stream` (methods on the prototype, not closures per connection: a
 * thousand-node run holds a million of these).
 */
class MemEndpoint implements Connection {
  readonly sink: Sink = this
  readonly stream: Stream = this
  constructor(
    private readonly wire: Wire,
    private readonly out: Pipe,
    private readonly inp: Pipe,
    readonly remote: Address,
    /** Both ends' addresses (shared by the two endpoints: the order does not matter to the stall check). */
    private readonly entry: LiveConnection,
  ) {}
  recv(): Promise<Uint8Array | null> {
    return this.inp.inbox.shift()
  }
  send(bytes: Uint8Array): Promise<void> {
    return this.wire.write(this.out, this.entry.hosts, bytes)
  }
  close(): void {
    this.wire.close(this.out, this.inp, this.entry)
  }
}

/** The in-memory sockets of a `DeterministicRuntime`, with per-pair links and fault injection. */
export class MemoryNetwork {
  readonly #listeners = new Map<Address, MemListener>()
  readonly #links = new Map<string, LinkOptions>()
  readonly #refused = new Set<Address>()
  readonly #stalled = new Set<string>()
  readonly #held: (() => void)[] = []
  readonly #live = new Set<LiveConnection>()
  #nextPort = 40000
  #nextConn = 0

  /** A network on `scheduler`'s clock, drawing jitter and loss from `rng`; `defaults` applies to host pairs without a `link`. */
  constructor(
    private readonly scheduler: Scheduler,
    private readonly rng: SeededRng,
    private readonly auditor: Auditor,
    private readonly defaults: LinkOptions,
  ) {}

  /** Latency (and jitter) from host `from` to host `to`; one-way. */
  link(from: string, to: string, opts: LinkOptions): void {
    this.#links.set(`${from}>${to}`, opts)
  }

  /** Refuse every later dial to `address` (or, with `on` false, accept them again). */
  refuse(address: Address, on = true): void {
    if (on) this.#refused.add(address)
    else this.#refused.delete(address)
  }

  /** Hold every delivery to or from `hostOrAddress` until `unstall`. */
  stall(hostOrAddress: string): void {
    this.#stalled.add(hostOrAddress)
  }

  /** Stop holding deliveries to or from `hostOrAddress` and release those held (still-stalled ones are held again). */
  unstall(hostOrAddress: string): void {
    this.#stalled.delete(hostOrAddress)
    for (const release of this.#held.splice(0)) release()
  }

  /** End every connection touching `hostOrAddress` now; data in flight is lost. */
  reset(hostOrAddress: string): void {
    for (const c of [...this.#live]) {
      if (c.hosts.some((h) => h === hostOrAddress || parseAddress(h).host === hostOrAddress)) this.#kill(c)
    }
  }

  /** End both directions of `c` now; data in flight is lost. */
  #kill(c: LiveConnection): void {
    this.#live.delete(c)
    for (const p of [c.ab, c.ba]) {
      p.closed = true
      p.inbox.end()
    }
    this.auditor.record('reset', this.scheduler.now(), c.id)
  }

  /** Listen at `address` (taken literally: port 0 is not special); throws `ERR_INVALID_ARGUMENT` if it is in use. */
  listen(address: Address): Listener {
    if (this.#listeners.has(address)) throw new P2pError('ERR_INVALID_ARGUMENT', `address in use: ${address}`)
    const l = new MemListener(address, () => this.#listeners.delete(address))
    this.#listeners.set(address, l)
    this.auditor.record('listen', this.scheduler.now(), address)
    return l
  }

  /**
   * Connect from host `from` to `address` after one link delay; rejects with `ERR_CLOSED` if nothing
   * listens there or the address is refused.
   */
  dial(from: string, address: Address): Promise<Connection> {
    const local = formatAddress(from, this.#nextPort++)
    const to = parseAddress(address).host
    this.auditor.record('dial', this.scheduler.now(), `${local}>${address}`)
    return new Promise((resolve, reject) => {
      this.scheduler.at(this.scheduler.now() + this.#delay(from, to), () => {
        const listener = this.#listeners.get(address)
        if (!listener || listener.closed || this.#refused.has(address)) {
          this.auditor.record('refused', this.scheduler.now(), `${local}>${address}`)
          reject(new P2pError('ERR_CLOSED', `connection refused: ${address}`))
          return
        }
        const id = `c${this.#nextConn++}`
        const ab = new Pipe(`${id}:${local}>${address}`, from, to)
        const ba = new Pipe(`${id}:${address}>${local}`, to, from)
        const entry = new LiveConnection(id, [local, address], ab, ba)
        this.#live.add(entry)
        listener.offer(new MemEndpoint(this.#wire, ba, ab, local, entry))
        resolve(new MemEndpoint(this.#wire, ab, ba, address, entry))
      })
    })
  }

  /** What every endpoint of this network writes and closes through (one object, not closures per connection). */
  readonly #wire: Wire = { write: (out, hosts, bytes) => this.#write(out, hosts, bytes), close: (out, inp, entry) => this.#close(out, inp, entry) }

  /** Close `out` (the peer reads end-of-stream after the data in flight) and stop reading `inp`. */
  #close(out: Pipe, inp: Pipe, entry: LiveConnection): void {
    if (out.closed) return
    out.closed = true
    inp.inbox.end()
    this.auditor.record('close', this.scheduler.now(), out.id)
    this.#deliver(out, entry.hosts, () => {
      inp.closed = true
      out.inbox.end()
      this.#live.delete(entry)
    })
  }

  /** Write a copy of `bytes` into `out`, delivered after the link's delay. */
  #write(out: Pipe, hosts: [Address, Address], bytes: Uint8Array): Promise<void> {
    if (out.closed) return Promise.reject(new P2pError('ERR_CLOSED', 'connection closed'))
    const copy = Uint8Array.from(bytes)
    this.auditor.record('write', this.scheduler.now(), out.id, copy)
    this.#deliver(out, hosts, () => {
      if (out.inbox.ended) return
      this.auditor.record('deliver', this.scheduler.now(), out.id, copy)
      out.inbox.push(copy)
    })
    return Promise.resolve()
  }

  /** Run `fire` when a write on `pipe` reaches the other end (FIFO per direction). */
  #deliver(pipe: Pipe, hosts: [Address, Address], fire: () => void): void {
    const at = Math.max(this.scheduler.now() + this.#delay(pipe.localHost, pipe.remoteHost), pipe.lastAt)
    pipe.lastAt = at
    const go = () => {
      if (this.#isStalled(hosts)) this.#held.push(go)
      else fire()
    }
    this.scheduler.at(at, go)
  }

  #isStalled(hosts: [Address, Address]): boolean {
    if (this.#stalled.size === 0) return false
    return hosts.some((h) => this.#stalled.has(h) || this.#stalled.has(parseAddress(h).host))
  }

  #delay(from: string, to: string): number {
    const l = this.#links.get(`${from}>${to}`) ?? this.defaults
    const jitter = l.jitterMs ? this.rng.int(Math.max(1, Math.round(l.jitterMs * 2)) + 1) - l.jitterMs : 0
    const lost = l.lossRate ? this.rng.int(1_000_000) < l.lossRate * 1_000_000 : false
    return Math.max(0, l.latencyMs + jitter) + (lost ? (l.retransmitMs ?? 200) : 0)
  }
}

/**
 * One authenticated, encrypted connection: the handshake (dialer and listener sides) and framed
 * ChaCha20-Poly1305 I/O, byte-compatible with commonware-stream 0.0.3.
 *
 * ## Design
 * Handshake order (PROTOCOL.md 2.5): the dialer sends its signed handshake, then reads and verifies the
 * listener's (which must be signed by the key it expected, else `WrongPeer`). The listener reads and
 * verifies the dialer's first (`verifyIncoming`), so its caller can decide whether to accept the key,
 * then answers (`upgradeListener`) before the same deadline. The raw X25519 secret is the key of both
 * directions; the nonce's role bit keeps them apart.
 *
 * After the handshake, `EncryptedConnection.send` queues a message; a writer drains everything queued
 * into one `sealFrames` call and one socket write per batch (up to BATCH_BYTES), with up to
 * WRITES_IN_FLIGHT writes outstanding. On a real socket a large batch is sealed into a buffer of the
 * process's pool (`pool.ts`), taken back once written: no fresh pages to fault in, no external memory
 * for the garbage collector to chase. With `StreamConfig.threadPool`, batches and frames from 256 KiB
 * are sealed and opened on the libuv thread pool instead (nonces taken at the call, writes kept in
 * nonce order), which frees the event loop but costs CPU (see that field). The reader opens every
 * complete frame of each chunk in one call, in place. Any refused frame (too large, zero length,
 * failed tag: tampering, replay or reordering) or a nonce overflow ends the connection with that typed
 * error.
 *
 * ## Not provided
 * Forward secrecy beyond the connection (ephemeral keys are per connection, nothing is rotated within
 * one), and identity hiding: keys travel in the clear during the handshake, as in the reference.
 *
 * ## Example
 * ```ts
 * const conn = await upgradeDialer(ctx, cfg, await ctx.dial(addr), peerKey)
 * await conn.send(bytes); const reply = await conn.recv()
 * ```
 */
import { ClosedError, DecryptFailedError, FrameEmptyError, FrameTooLargeError, HandshakeError, HandshakeTimeoutError, NonceOverflowError, P2pError } from '../errors.js'
import { binding as activeBinding } from '../native/load.js'
import type { Binding, OpenErrorCode, OpenResult, RecvCipher, SendCipher } from '../native/binding.js'
import type { Connection, Context } from '../runtime/context.js'
import { verifyStreamConfig, type StreamConfig } from './config.js'
import { FrameReader, concat, frame } from './framing.js'
import { bytesEqual, createHandshake, verifyHandshake } from './handshake.js'
import { giveBuffer, takeBuffer } from './pool.js'
import { uninit } from '../utils/slab.js'

const TAG = 16
/** Bytes a frame adds to its plaintext: the length prefix and the tag. */
const FRAME_OVERHEAD = 4 + TAG
/** Frames above this size (bytes, with prefix) are assembled in one buffer as they arrive. */
const ASSEMBLE_FROM = 64 << 10
/**
 * Most plaintext bytes sealed into one buffer and written at once (at least one message): 1 MiB on the
 * addon (about a millisecond of sealing), 64 KiB on the fallback, whose sealing is several times slower,
 * so one seal never holds the event loop for long.
 */
export const BATCH_BYTES = activeBinding.name === 'native' ? 1 << 20 : 64 << 10
/** Most frame bytes the fallback opens per call: about a millisecond of its work or less. */
const OPEN_SLICE_FALLBACK = 16 << 10
/** Sealed batches written to the socket and not yet completed, at most. */
const WRITES_IN_FLIGHT = 2
/**
 * With `StreamConfig.threadPool` (real sockets, addon only), batches (plaintext bytes) and frames
 * (bytes with prefix) from this size on are sealed or opened on the libuv thread pool: the event loop
 * writes the previous batch, or reads the next frame, meanwhile. Smaller ones are sealed and opened at
 * once (an async call costs tens of microseconds of latency).
 */
const ASYNC_FROM = 256 << 10
const NO_OP = (): void => undefined

/** Race `work` against the deadline; on timeout close the socket and throw `HandshakeTimeoutError`. */
async function beforeDeadline<T>(ctx: Context, cfg: StreamConfig, conn: Connection, deadline: number, work: Promise<T>): Promise<T> {
  let cancel = NO_OP
  const timeout = new Promise<never>((_, reject) => {
    cancel = ctx.after(deadline - ctx.now(), () => reject(new HandshakeTimeoutError(conn.remote, cfg.handshakeTimeoutMs)))
  })
  try {
    return await Promise.race([work, timeout])
  } catch (e) {
    conn.sink.close()
    throw e
  } finally {
    cancel()
  }
}

async function sendHandshake(conn: Connection, body: Uint8Array): Promise<void> {
  try {
    await conn.sink.send(frame(body))
  } catch (e) {
    throw new HandshakeError('SendFailed', e instanceof Error ? e.message : String(e), { cause: e })
  }
}

async function recvHandshake(reader: FrameReader, cfg: StreamConfig): Promise<Uint8Array> {
  try {
    return await reader.next(cfg.maxMessageBytes)
  } catch (e) {
    throw new HandshakeError('RecvFailed', e instanceof Error ? e.message : String(e), { cause: e })
  }
}

function deriveKey(b: Binding, secret: Uint8Array, peerEphemeral: Uint8Array): Uint8Array {
  const key = b.x25519SharedSecret(secret, peerEphemeral)
  // Only the fallback refuses (an all-zero result from a low-order key); see README, "Backends".
  if (!key) throw new HandshakeError('CipherCreationFailed', 'X25519 result refused by the fallback backend')
  return key
}

/** Dial side: handshake with the peer expected at this address (`expectedPeer`). */
export async function upgradeDialer(ctx: Context, cfg: StreamConfig, conn: Connection, expectedPeer: Uint8Array): Promise<EncryptedConnection> {
  verifyStreamConfig(cfg)
  const deadline = ctx.now() + cfg.handshakeTimeoutMs
  const secret = ctx.randomBytes(32)
  const reader = new FrameReader(conn.stream)
  const b = cfg.backend ?? activeBinding
  return beforeDeadline(ctx, cfg, conn, deadline, (async () => {
    const sentAt = ctx.now()
    await sendHandshake(conn, createHandshake(cfg, expectedPeer, b.x25519PublicKey(secret), sentAt))
    const body = await recvHandshake(reader, cfg)
    const receivedAt = ctx.now()
    let theirs
    try {
      theirs = verifyHandshake(cfg, receivedAt, body)
    } catch (e) {
      // The answer was made about half a round trip before it arrived.
      if (e instanceof HandshakeError && e.skewMs !== undefined) e.skewMs += (receivedAt - sentAt) / 2
      throw e
    }
    if (!bytesEqual(theirs.peer, expectedPeer)) throw new HandshakeError('WrongPeer', `answered by ${Buffer.from(theirs.peer).toString('hex')}`)
    const c = new EncryptedConnection(conn, deriveKey(b, secret, theirs.ephemeral), true, cfg.maxMessageBytes, theirs.peer, reader.takeBuffered(), b, cfg.threadPool === true)
    c.timing = { skewMs: Number(theirs.timestamp) - (sentAt + receivedAt) / 2, rttMs: receivedAt - sentAt }
    return c
  })())
}

/**
 * What a handshake measured about the peer. The peer's timestamp says when it made its handshake on
 * its clock; the dialer compares it with the midpoint of its round trip (send to answer), the listener
 * with when the dialer's handshake arrived, so the listener's figure is low by the one-way delay.
 */
export interface HandshakeTiming {
  /** The peer's clock minus ours, ms (positive: the peer is ahead). */
  skewMs: number
  /** Dialer only: from sending our handshake to receiving the answer, ms (includes the listener's checks). */
  rttMs?: number
}

/** A dialer's verified handshake, waiting for the listener's decision. */
export interface IncomingConnection {
  /** Who is dialing (verified). */
  readonly peer: Uint8Array
  /** The underlying connection, still unencrypted; pass the whole value to `upgradeListener`. */
  readonly connection: Connection
  /** @internal */
  readonly state: { cfg: StreamConfig; deadline: number; ephemeral: Uint8Array; reader: FrameReader; skewMs: number }
}

/**
 * Listener side, step 1: read and verify the dialer's handshake (nothing is sent). The deadline runs
 * from this call. `screen` may refuse the claimed key before its signature is verified (it throws).
 */
export async function verifyIncoming(ctx: Context, cfg: StreamConfig, conn: Connection, screen?: (peer: Uint8Array) => void): Promise<IncomingConnection> {
  verifyStreamConfig(cfg)
  const deadline = ctx.now() + cfg.handshakeTimeoutMs
  const reader = new FrameReader(conn.stream)
  return beforeDeadline(ctx, cfg, conn, deadline, (async () => {
    const body = await recvHandshake(reader, cfg)
    const receivedAt = ctx.now()
    const theirs = verifyHandshake(cfg, receivedAt, body, screen)
    return { peer: theirs.peer, connection: conn, state: { cfg, deadline, ephemeral: theirs.ephemeral, reader, skewMs: Number(theirs.timestamp) - receivedAt } }
  })())
}

/** Listener side, step 2: answer (before the same deadline) and start the encrypted connection. */
export async function upgradeListener(ctx: Context, incoming: IncomingConnection): Promise<EncryptedConnection> {
  const { cfg, deadline, ephemeral, reader } = incoming.state
  const conn = incoming.connection
  const secret = ctx.randomBytes(32)
  const b = cfg.backend ?? activeBinding
  return beforeDeadline(ctx, cfg, conn, deadline, (async () => {
    await sendHandshake(conn, createHandshake(cfg, incoming.peer, b.x25519PublicKey(secret), ctx.now()))
    const c = new EncryptedConnection(conn, deriveKey(b, secret, ephemeral), false, cfg.maxMessageBytes, incoming.peer, reader.takeBuffered(), b, cfg.threadPool === true)
    c.timing = { skewMs: incoming.state.skewMs }
    return c
  })())
}

function openError(code: OpenErrorCode, size: number, limit: number, index: number): P2pError {
  switch (code) {
    case 'ERR_FRAME_TOO_LARGE':
      return new FrameTooLargeError(size, limit)
    case 'ERR_FRAME_EMPTY':
      return new FrameEmptyError()
    case 'ERR_DECRYPT_FAILED':
      return new DecryptFailedError(index)
    case 'ERR_NONCE_OVERFLOW':
      return new NonceOverflowError()
  }
}

/** An established connection: ordered, authenticated, encrypted messages in both directions. */
export class EncryptedConnection {
  readonly #sealer: SendCipher
  readonly #opener: RecvCipher
  readonly #queue: Queued[] = []
  #flushing = false
  #pending: Uint8Array
  readonly #ready: Uint8Array[] = []
  /** A large frame being filled chunk by chunk, and how many of its bytes have arrived. */
  #assembly: Uint8Array | undefined
  #filled = 0
  #readyHead = 0
  #error: P2pError | undefined
  /** Most frame bytes opened per call (see `#open`). */
  readonly #openSlice: number
  #received = 0
  /** Whether the connection is a real socket (see `Connection.isRealSocket`): sealed batches in pooled buffers. */
  readonly #isRealSocket: boolean
  /** Whether large batches and frames go to the thread pool (see ASYNC_FROM). */
  readonly #isAsync: boolean
  /**
   * Resolves once the last batch sealed on the thread pool has been handed to the socket; undefined
   * when none is pending. Batches are handed over in the order they were sealed (their nonces' order).
   */
  #tail: Promise<void> | undefined

  /**
   * An encrypted connection over `conn` with the 32-byte shared `key`; `buffered` holds bytes read past
   * the handshake. Use `upgradeDialer` or `upgradeListener` rather than calling this directly.
   */
  constructor(
    private readonly conn: Connection,
    key: Uint8Array,
    /** Whether this side dialed the connection (it sets the role bit of the nonces). */
    readonly isDialer: boolean,
    /** Largest message, bytes, in either direction. */
    readonly maxMessageBytes: number,
    /** The peer's verified public key. */
    readonly peer: Uint8Array,
    buffered: Uint8Array,
    b: Binding = activeBinding,
    /** Seal and open large batches on the thread pool (see `StreamConfig.threadPool`). */
    isThreadPool = false,
  ) {
    this.#openSlice = b.name === 'native' ? Infinity : OPEN_SLICE_FALLBACK
    this.#sealer = new b.SendCipher(key, isDialer, maxMessageBytes)
    this.#opener = new b.RecvCipher(key, isDialer, maxMessageBytes)
    this.#isRealSocket = conn.isRealSocket === true
    this.#isAsync = isThreadPool && this.#isRealSocket && typeof this.#sealer.sealFramesAsync === 'function' && typeof this.#opener.openFramesAsync === 'function'
    this.#pending = buffered
  }

  /** What the handshake measured (set by `upgradeDialer` and `upgradeListener`). */
  timing: HandshakeTiming | undefined = undefined

  /** The remote address of the underlying connection. */
  get remote(): string {
    return this.conn.remote
  }

  /**
   * Queue `msg`; resolves once its batch was written to the socket. Throws `FrameTooLargeError`
   * (nothing queued) for a message over the limit; rejects with the connection's error once it failed.
   */
  send(msg: Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error)
    if (msg.length > this.maxMessageBytes) return Promise.reject(new FrameTooLargeError(msg.length, this.maxMessageBytes))
    return new Promise((resolve, reject) => {
      this.#queue.push({ msg, length: msg.length, done: (e) => (e ? reject(e) : resolve()) })
      if (!this.#flushing) void this.#flush()
    })
  }

  /**
   * Queue several messages at once; resolves once they were written (one promise for all of them).
   * A message may be given as its parts (an array), which make one frame: a protobuf header and the
   * payload it wraps need not be copied into one array first (on a real socket with the addon, each
   * part is copied once, into the sealed batch). Rejects as `send` does; if one message is over the
   * limit, none is queued.
   */
  sendMany(msgs: readonly (Uint8Array | readonly Uint8Array[])[]): Promise<void> {
    if (this.#error) return Promise.reject(this.#error)
    const lens = msgs.map(lengthOf)
    for (const n of lens) if (n > this.maxMessageBytes) return Promise.reject(new FrameTooLargeError(n, this.maxMessageBytes))
    if (msgs.length === 0) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const last = msgs.length - 1
      for (let i = 0; i < last; i++) this.#queue.push({ msg: msgs[i]!, length: lens[i]!, done: NO_OP })
      this.#queue.push({ msg: msgs[last]!, length: lens[last]!, done: (e) => (e ? reject(e) : resolve()) })
      if (!this.#flushing) void this.#flush()
    })
  }

  /**
   * Write everything queued: one seal call and one socket write per batch, with up to
   * WRITES_IN_FLIGHT writes outstanding, so the next batch is sealed while the kernel still takes the
   * previous one (sealing overlaps socket I/O; at most that many sealed batches are held).
   */
  async #flush(): Promise<void> {
    this.#flushing = true
    const inFlight: Promise<void>[] = []
    try {
      for (;;) {
        if (this.#queue.length > 0 && !this.#error && inFlight.length < WRITES_IN_FLIGHT) {
          inFlight.push(this.#writeBatch())
          continue
        }
        if (inFlight.length === 0) break
        await inFlight.shift()
      }
      for (const b of this.#queue.splice(0)) b.done(this.#error)
    } finally {
      this.#flushing = false
    }
  }

  /**
   * Seal the next batch (up to BATCH_BYTES, at least one message) and write it; settles its callers.
   * With the thread pool on, a large batch (ASYNC_FROM) is sealed there, from the messages themselves;
   * otherwise at once, from one packed copy of them when there are several.
   */
  #writeBatch(): Promise<void> {
    let n = 0
    let bytes = 0
    for (; n < this.#queue.length && (n === 0 || bytes + this.#queue[n]!.length <= BATCH_BYTES); n++) bytes += this.#queue[n]!.length
    const batch = this.#queue.splice(0, n)
    const failed = (e: unknown) => {
      const err = e instanceof P2pError ? e : new ClosedError('send failed', { cause: e })
      this.#fail(err)
      for (const b of batch) b.done(err)
    }
    const size = bytes + n * FRAME_OVERHEAD
    // On a real socket a large batch is sealed in place in a pooled buffer, given back once written.
    const pooled = this.#isRealSocket && this.#sealer.sealInPlace ? takeBuffer(size) : undefined
    let sealed: Uint8Array | Promise<Uint8Array>
    try {
      if (this.#isAsync && bytes >= ASYNC_FROM) {
        const o = pooled?.subarray(0, size) ?? new Uint8Array(size)
        sealed = this.#sealer.sealFramesAsync!(
          batch.map((b) => joined(b.msg, b.length)),
          o,
        ).then(() => o)
      } else if (pooled) {
        sealed = this.#sealInPlace(batch, pooled.subarray(0, size))
      } else {
        sealed = this.#sealPacked(batch, bytes)
      }
    } catch (e) {
      if (pooled) giveBuffer(pooled)
      failed(e)
      return Promise.resolve()
    }
    return this.#handOver(sealed).then(() => {
      if (pooled) giveBuffer(pooled)
      for (const b of batch) b.done()
    }, failed)
  }

  /** Copy each message of `batch` to its frame's place in `out` and seal them there. */
  #sealInPlace(batch: Queued[], out: Uint8Array): Uint8Array {
    const lens = new Uint32Array(batch.length)
    let off = 0
    for (let i = 0; i < batch.length; i++) {
      const { msg, length } = batch[i]!
      off += 4
      if (msg instanceof Uint8Array) out.set(msg, off)
      else for (let p = 0, at = off; p < msg.length; at += msg[p]!.length, p++) out.set(msg[p]!, at)
      off += length + TAG
      lens[i] = length
    }
    this.#sealer.sealInPlace!(out, lens)
    return out
  }

  /** Seal `batch` (`bytes` of plaintext) at once, from one packed copy when it has several messages or parts. */
  #sealPacked(batch: Queued[], bytes: number): Uint8Array {
    const lens = new Uint32Array(batch.length)
    if (batch.length === 1) {
      lens[0] = bytes
      return this.#sealer.sealFrames(joined(batch[0]!.msg, bytes), lens)
    }
    const plain = uninit(bytes)
    let off = 0
    for (let i = 0; i < batch.length; i++) {
      const { msg, length } = batch[i]!
      if (msg instanceof Uint8Array) plain.set(msg, off)
      else for (let p = 0, at = off; p < msg.length; at += msg[p]!.length, p++) plain.set(msg[p]!, at)
      off += length
      lens[i] = length
    }
    return this.#sealer.sealFrames(plain, lens)
  }

  /**
   * Write `sealed` once every batch sealed before it has been handed to the socket: batches sealed on
   * the thread pool may finish out of order, the frames must not. Resolves once written.
   */
  #handOver(sealed: Uint8Array | Promise<Uint8Array>): Promise<void> {
    const prev = this.#tail
    if (prev === undefined && sealed instanceof Uint8Array) return this.conn.sink.send(sealed)
    let handed!: () => void
    const tail = new Promise<void>((r) => (handed = r))
    this.#tail = tail
    const turn = () => {
      if (this.#tail === tail) this.#tail = undefined
      handed()
    }
    return (prev === undefined ? Promise.resolve(sealed) : prev.then(() => sealed)).then(
      (s) => {
        const written = this.conn.sink.send(s)
        turn()
        return written
      },
      (e: unknown) => {
        turn()
        throw e
      },
    )
  }

  /**
   * The next message if one was already opened (from the chunk last read), else undefined: lets a
   * receive loop take a whole chunk's messages without a promise per message.
   */
  recvReady(): Uint8Array | undefined {
    if (this.#readyHead >= this.#ready.length) return undefined
    const m = this.#ready[this.#readyHead]!
    this.#ready[this.#readyHead++] = EMPTY
    if (this.#readyHead === this.#ready.length) {
      this.#ready.length = 0
      this.#readyHead = 0
    }
    return m
  }

  /** How many opened messages `recvReady` can hand out now. */
  readyCount(): number {
    return this.#ready.length - this.#readyHead
  }

  /**
   * The next message. Rejects with the typed error that ended the connection. A promise chain, not an
   * async function: a connection waiting for its next chunk holds one pending callback, not a
   * suspended generator (a simulation of a thousand nodes holds a million waiting connections).
   */
  recv(): Promise<Uint8Array> {
    try {
      for (;;) {
        const ready = this.recvReady()
        if (ready) return Promise.resolve(ready)
        if (this.#error) return Promise.reject(this.#error)
        if (this.#pending.length > 0) {
          this.#open(this.#pending)
          if (this.#readyHead < this.#ready.length || this.#error) continue
        }
        return this.conn.stream.recv().then((chunk) => this.#take(chunk))
      }
    } catch (e) {
      return Promise.reject(e)
    }
  }

  /** Take a chunk read from the stream (null: end of stream), then go on as `recv`. */
  #take(chunk: Uint8Array | null): Promise<Uint8Array> {
    if (chunk === null) {
      this.#fail(new ClosedError('stream closed'))
      return this.recv()
    }
    // A socket hands out Buffers: a plain view of the same bytes makes every per-message subarray
    // from here on (the ready queue, the decoder) the built-in one instead of Buffer's own, which
    // was 11% of a receiver of 100 B messages. Messages are delivered as plain Uint8Arrays.
    if (chunk.constructor !== Uint8Array) chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.#assembly) {
      // Filling one large frame: copy the chunk in once, open when complete.
      const take = Math.min(chunk.length, this.#assembly.length - this.#filled)
      this.#assembly.set(chunk.subarray(0, take), this.#filled)
      this.#filled += take
      if (this.#filled < this.#assembly.length) return this.recv()
      const whole = this.#assembly
      this.#assembly = undefined
      const rest = take < chunk.length ? chunk.subarray(take) : EMPTY
      // A large frame is opened on the thread pool: meanwhile the event loop reads the next chunks.
      if (this.#isAsync && whole.length >= ASYNC_FROM) {
        return this.#opener.openFramesAsync!(whole).then((r) => {
          this.#opened(whole, r)
          if (!this.#error) this.#pending = rest
          return this.recv()
        })
      }
      this.#open(whole)
      if (!this.#error) this.#pending = rest
      return this.recv()
    }
    // The runtime hands us the chunk; it is opened in place. A frame split across chunks is
    // completed alone, copying only its own bytes, not the whole chunk onto it.
    if (this.#pending.length > 0) {
      const rest = this.#joinPending(chunk)
      this.#open(this.#pending)
      if (this.#error) return this.recv()
      if (this.#pending.length > 0) {
        // Still one partial frame (the chunk ended inside it): a large one is assembled from here.
        this.#startAssembly()
        return this.recv()
      }
      this.#pending = rest
    } else {
      this.#pending = chunk
    }
    if (this.#pending.length === 0) return this.recv()
    this.#open(this.#pending)
    this.#startAssembly()
    return this.recv()
  }

  /**
   * `#pending` holds the start of one frame (every whole frame before it was opened): extend it with
   * the bytes of `chunk` that frame still needs (its length prefix first, if split) and return the
   * rest of the chunk, untouched.
   */
  #joinPending(chunk: Uint8Array): Uint8Array {
    let p = this.#pending
    let c = chunk
    if (p.length < 4) {
      const k = Math.min(4 - p.length, c.length)
      p = concat(p, c.subarray(0, k))
      c = c.subarray(k)
      if (p.length < 4) {
        this.#pending = p
        return EMPTY
      }
    }
    const need = 4 + new DataView(p.buffer, p.byteOffset, 4).getUint32(0)
    const take = Math.min(Math.max(0, need - p.length), c.length)
    this.#pending = take === 0 ? p : concat(p, c.subarray(0, take))
    return c.subarray(take)
  }

  /**
   * If what is pending is the start of a frame larger than ASSEMBLE_FROM, allocate the whole frame
   * once and fill it as chunks arrive, instead of concatenating every chunk onto the pending bytes
   * (which copies a 1 MiB frame about 8 times over in 64 KiB chunks).
   */
  #startAssembly(): void {
    const p = this.#pending
    if (this.#error || p.length < 4) return
    const need = 4 + new DataView(p.buffer, p.byteOffset, 4).getUint32(0)
    if (need <= ASSEMBLE_FROM || need <= p.length) return
    // Every byte is written (the frame as it arrives) before the frame is opened and its message seen.
    this.#assembly = uninit(need)
    this.#assembly.set(p)
    this.#filled = p.length
    this.#pending = EMPTY
  }

  /** Open every complete frame of `buf` (in place) into the ready queue. */
  #open(buf: Uint8Array): void {
    // At most OPEN_SLICE bytes of frames per call (always the first whole frame), so that opening a
    // chunk of many small frames on the fallback never holds the event loop for long; the rest stays
    // pending for the next call.
    const whole = buf
    if (buf.length > this.#openSlice && buf.length >= 4) {
      const first = 4 + new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0)
      buf = buf.subarray(0, Math.min(buf.length, Math.max(this.#openSlice, first)))
    }
    this.#opened(whole, this.#opener.openFrames(buf))
  }

  /** Take what `openFrames` opened of `whole` (or of its start) into the ready queue. */
  #opened(whole: Uint8Array, r: OpenResult): void {
    let off = 0
    for (const len of r.lens) {
      this.#ready.push(r.plain.subarray(off, off + len))
      off += len
    }
    this.#received += r.lens.length
    this.#pending = whole.subarray(r.consumed)
    if (r.error) {
      const size = this.#pending.length >= 4 ? new DataView(this.#pending.buffer, this.#pending.byteOffset).getUint32(0) : 0
      this.#fail(openError(r.error, size, this.maxMessageBytes + TAG, this.#received))
    } else if (this.#pending.length === 0) {
      this.#pending = EMPTY
    }
  }

  #fail(err: P2pError): void {
    if (this.#error) return
    this.#error = err
    this.conn.sink.close()
  }

  /** Close the connection; pending and later calls reject with `ClosedError`. */
  close(): void {
    this.#fail(new ClosedError())
  }

  /** The underlying sink's write-progress counter (see `Sink.progress`); 0 where it has none. */
  progress(): number {
    return this.conn.sink.progress?.() ?? 0
  }

  /** Why the connection ended, if it has. */
  get error(): P2pError | undefined {
    return this.#error
  }
}

const EMPTY = new Uint8Array(0)

/** A queued message (or its parts, which make one frame), its length, and its caller's callback. */
type Queued = { msg: Uint8Array | readonly Uint8Array[]; length: number; done: (e?: unknown) => void }

function lengthOf(m: Uint8Array | readonly Uint8Array[]): number {
  if (m instanceof Uint8Array) return m.length
  let n = 0
  for (const p of m) n += p.length
  return n
}

/** The message as one array: itself, or its parts copied into one (`length` bytes in all). */
function joined(m: Uint8Array | readonly Uint8Array[], length: number): Uint8Array {
  if (m instanceof Uint8Array) return m
  if (m.length === 1) return m[0]!
  const out = new Uint8Array(length)
  for (let p = 0, at = 0; p < m.length; at += m[p]!.length, p++) out.set(m[p]!, at)
  return out
}

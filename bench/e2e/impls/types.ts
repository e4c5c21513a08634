/**
 * What every candidate of the worker provides: message connections for the streaming, round-trip and
 * fan-out scenarios, and a handshake-only pair for the connection scenario.
 */

/** One message connection (message boundaries kept, in order). */
export interface Conn {
  /**
   * Send one message. Returns nothing when the caller may send again at once, or a promise to await
   * first (back-pressure).
   */
  send(msg: Uint8Array): void | Promise<unknown>
  /** Set the handler of every message received on this connection. */
  onMessage(fn: (msg: Uint8Array) => void): void
}

/** A set of connections that one call sends to (the fan-out scenario). */
export interface Group {
  send(msg: Uint8Array): void | Promise<unknown>
}

/** A listening endpoint: what the dialer needs (`info`, plain JSON) and how to stop it. */
export interface Served {
  info: unknown
  close(): Promise<void> | void
}

/** What a candidate may tune to the scenario, as a user would. */
export interface Tuning {
  /** Size of every message of the scenario, bytes. */
  messageSize: number
  /** Listening identities (0..servers-1) and dialing identities (0..clients-1) of the scenario. */
  servers: number
  clients: number
}

export interface Impl {
  /**
   * Listen as identity `index`, for the dialing identities `0..peers-1`; `onConn` gets each
   * established connection.
   */
  listen(index: number, peers: number, onConn: (c: Conn) => void, tuning: Tuning): Promise<Served>
  /** Dial `info` as dialing identity `index`; resolves once messages can flow. */
  dial(info: unknown, index: number, tuning: Tuning): Promise<Conn & { close(): Promise<void> | void }>
  /** Dial every endpoint of `infos` as dialing identity 0; sends go to all of them. */
  group(infos: unknown[], tuning: Tuning): Promise<Group & { close(): Promise<void> | void }>
  /** A listener that completes the authenticated handshake of every incoming connection. */
  handshakeServer(): Promise<Served>
  /**
   * A function that opens one connection to `info` as dialing identity `index` (full handshake,
   * peer authenticated), then closes it.
   */
  handshakeClient(info: unknown, index: number): Promise<{ once(): Promise<void>; close(): Promise<void> | void }>
}

/** A group over separate connections: one send on each, waiting for any that pushes back. */
export function groupOf(conns: Conn[]): Group {
  return {
    send(msg) {
      let wait: Promise<unknown>[] | undefined
      for (const c of conns) {
        const p = c.send(msg)
        if (p) (wait ??= []).push(p)
      }
      return wait && Promise.all(wait)
    },
  }
}

/**
 * Split a byte stream into messages with a 4-byte big-endian length prefix. Chunks are kept apart
 * until a whole message is there, so a large message is copied once.
 */
export class LengthPrefixed {
  #parts: Uint8Array[] = []
  #have = 0
  /** Bytes needed in `#parts` before parsing can make progress. */
  #need = 4

  constructor(private readonly onMessage: (m: Uint8Array) => void) {}

  push(chunk: Uint8Array): void {
    let buf = chunk
    if (this.#have > 0) {
      this.#parts.push(chunk)
      this.#have += chunk.length
      if (this.#have < this.#need) return
      buf = Buffer.concat(this.#parts, this.#have)
      this.#parts = []
      this.#have = 0
    }
    let off = 0
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    for (;;) {
      const left = buf.length - off
      if (left < 4) {
        this.#need = 4
        break
      }
      const len = view.getUint32(off)
      if (left < 4 + len) {
        this.#need = 4 + len
        break
      }
      this.onMessage(buf.subarray(off + 4, off + 4 + len))
      off += 4 + len
    }
    if (off < buf.length) {
      this.#parts = [buf.subarray(off)]
      this.#have = buf.length - off
    }
  }
}

/** The 4-byte big-endian length prefix of a message. */
export function prefix(len: number): Uint8Array {
  const p = Buffer.allocUnsafe(4)
  p.writeUInt32BE(len)
  return p
}

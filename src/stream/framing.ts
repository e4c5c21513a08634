/**
 * Reading length-prefixed frames from a byte stream, and writing them.
 *
 * ## Design
 * A frame is a u32 big-endian length then that many bytes (PROTOCOL.md 1). The reader checks the
 * length before waiting for the body, so an oversize or zero prefix fails at once. It keeps whatever
 * it read past the frame, so the bytes that follow a handshake (the first encrypted frames) are handed
 * on rather than lost.
 *
 * ## Example
 * `const body = await reader.next(limit)`; then `reader.takeBuffered()` for the encrypted layer.
 */
import { ClosedError, FrameEmptyError, FrameTooLargeError } from '../errors.js'
import type { Stream } from '../runtime/context.js'

/** Reads length-prefixed frames from a byte stream, keeping any bytes read past the last frame. */
export class FrameReader {
  #buf: Uint8Array = new Uint8Array(0)

  /** A reader of `stream`, which it alone must read from. */
  constructor(private readonly stream: Stream) {}

  async #fill(n: number): Promise<void> {
    while (this.#buf.length < n) {
      const chunk = await this.stream.recv()
      if (chunk === null) throw new ClosedError('stream closed mid-frame')
      this.#buf = this.#buf.length === 0 ? chunk : concat(this.#buf, chunk)
    }
  }

  /** The next frame's body (1..limit bytes). */
  async next(limit: number): Promise<Uint8Array> {
    await this.#fill(4)
    const len = new DataView(this.#buf.buffer, this.#buf.byteOffset, 4).getUint32(0)
    if (len === 0) throw new FrameEmptyError()
    if (len > limit) throw new FrameTooLargeError(len, limit)
    await this.#fill(4 + len)
    const body = this.#buf.slice(4, 4 + len)
    this.#buf = this.#buf.subarray(4 + len)
    return body
  }

  /** Bytes read past the last frame. */
  takeBuffered(): Uint8Array {
    const b = this.#buf
    this.#buf = new Uint8Array(0)
    return b
  }
}

/** `u32 BE length || body`. */
export function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length)
  new DataView(out.buffer).setUint32(0, body.length)
  out.set(body, 4)
  return out
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

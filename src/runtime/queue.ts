/**
 * `ChunkQueue`: chunks waiting to be read from a connection, with at most one reader waiting.
 *
 * ## Design
 * Producers `push` chunks and finally `end()`; the reader awaits `shift()`, which yields queued chunks
 * in order, then `null` once ended. Used by both runtimes' streams, so the reading side behaves the same
 * over real and in-memory sockets. The byte count is tracked so a producer can apply backpressure.
 *
 * ## Not provided
 * Several concurrent readers: a stream has one owner.
 */
export class ChunkQueue {
  readonly #chunks: Uint8Array[] = []
  #head = 0
  #waiter: ((c: Uint8Array | null) => void) | undefined
  #ended = false
  #bytes = 0

  /** Bytes queued and not yet read. */
  get bytes(): number {
    return this.#bytes
  }

  get ended(): boolean {
    return this.#ended
  }

  push(chunk: Uint8Array): void {
    if (this.#ended) return
    const w = this.#waiter
    if (w) {
      this.#waiter = undefined
      w(chunk)
      return
    }
    this.#chunks.push(chunk)
    this.#bytes += chunk.length
  }

  /** No more chunks: the reader gets what is queued, then `null`. */
  end(): void {
    this.#ended = true
    const w = this.#waiter
    if (w) {
      this.#waiter = undefined
      w(null)
    }
  }

  shift(): Promise<Uint8Array | null> {
    if (this.#head < this.#chunks.length) {
      const c = this.#chunks[this.#head]!
      this.#chunks[this.#head++] = undefined as unknown as Uint8Array
      if (this.#head === this.#chunks.length) {
        // Empty: drop the backing store (a long-lived idle connection keeps none).
        this.#chunks.length = 0
        this.#head = 0
      } else if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
        this.#chunks.splice(0, this.#head)
        this.#head = 0
      }
      this.#bytes -= c.length
      return Promise.resolve(c)
    }
    if (this.#ended) return Promise.resolve(null)
    if (this.#waiter) return Promise.reject(new Error('ChunkQueue: a reader is already waiting'))
    return new Promise((resolve) => {
      this.#waiter = resolve
    })
  }
}

/**
 * `Auditor`: folds every socket event of a deterministic run into one digest.
 *
 * ## Design
 * Each event (listen, dial, write, delivery, close) is hashed with its virtual time and the bytes
 * involved into a running SHA-256. Two runs of the same code with the same seed must end with the same
 * digest; any escape from the virtual world (wall-clock time, unseeded randomness) shows up as a
 * different digest.
 *
 * ## Example
 * `expect(run(seed).digest()).toBe(run(seed).digest())`
 */
import { createHash, type Hash } from 'node:crypto'

/** A running SHA-256 over every socket event of a deterministic run. */
export class Auditor {
  readonly #hash: Hash = createHash('sha256')
  #events = 0

  /** Fold one event into the digest: its kind, virtual time (ms), detail and bytes (if any). */
  record(kind: string, at: number, detail: string, bytes?: Uint8Array): void {
    this.#events++
    this.#hash.update(`${kind}|${at}|${detail}|${bytes?.length ?? -1}|`)
    if (bytes) this.#hash.update(bytes)
  }

  /** Number of events recorded. */
  get events(): number {
    return this.#events
  }

  /** The SHA-256 of every event so far, as hex; recording may continue. */
  digest(): string {
    return this.#hash.copy().digest('hex')
  }
}

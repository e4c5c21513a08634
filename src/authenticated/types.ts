/**
 * The user-facing message API shared by `authenticated` and (later) `simulated`: recipients,
 * channels, and the `Sender`/`Receiver` interfaces.
 *
 * ## Example
 * `await sender.send(Recipients.all(), bytes, false)` resolves with the keys it was queued for.
 */
import { ClosedError, DecompressError } from '../errors.js'

/** A channel id (u32), carried in every Data message. */
export type Channel = number

/** Who a message is for; build one with `Recipients.all`, `Recipients.some` or `Recipients.one`. */
export type Recipients =
  | {
      /** Every peer. */
      kind: 'all'
    }
  | {
      /** The listed peers. */
      kind: 'some'
      /** Public keys of the peers, in sending order. */
      keys: Uint8Array[]
    }
  | {
      /** A single peer. */
      kind: 'one'
      /** Public key of the peer. */
      key: Uint8Array
    }

/** Constructors of `Recipients` values. */
export const Recipients = {
  /** Every connected peer (never ourselves), in ascending key order. */
  all: (): Recipients => ({ kind: 'all' }),
  /** These peers, in this order, skipping unconnected ones; duplicates are sent twice. */
  some: (keys: Uint8Array[]): Recipients => ({ kind: 'some', keys }),
  /** Only this peer; nothing is sent if it is not connected. */
  one: (key: Uint8Array): Recipients => ({ kind: 'one', key }),
}

/** The sending half of a registered channel. */
export interface Sender {
  /**
   * Queue `message` for the recipients; resolves with the keys it was queued for (not proof of
   * delivery). Throws `MessageTooLargeError` (after compression, if the channel compresses).
   * `priority` messages go ahead of queued normal ones.
   */
  send(recipients: Recipients, message: Uint8Array, priority?: boolean): Promise<Uint8Array[]>
  /**
   * Offer `message` to the recipients without waiting: says which peers queued it, which had a full
   * queue and which are stalled (their socket accepts nothing); the message is dropped for the last
   * two (counted in `messages_dropped`). Throws as `send` does.
   */
  trySend(recipients: Recipients, message: Uint8Array, priority?: boolean): SendOutcome
}

/** What `Sender.trySend` did, per recipient (keys of connected recipients only). */
export interface SendOutcome {
  /** Peers the message was queued for. */
  queued: Uint8Array[]
  /** Peers whose queue was full: not queued for them. */
  full: Uint8Array[]
  /** Peers whose socket accepted no bytes for `maxWriteStallMs`: not queued for them. */
  stalled: Uint8Array[]
}

/**
 * Iterate a receiver: yields every message, skips those `recv()` refused with a `DecompressError`
 * (already counted by the channel), and ends at `ClosedError` (the network or peer is gone).
 */
export async function* receiveAll(recv: () => Promise<[Uint8Array, Uint8Array]>): AsyncGenerator<[Uint8Array, Uint8Array]> {
  for (;;) {
    try {
      yield await recv()
    } catch (e) {
      if (e instanceof DecompressError) continue
      if (e instanceof ClosedError) return
      throw e
    }
  }
}

/**
 * The receiving half of a registered channel. Iterating it yields `[sender public key, message]` pairs,
 * skips messages that fail to decompress and ends when the network (or peer) is closed.
 */
export interface Receiver extends AsyncIterable<[Uint8Array, Uint8Array]> {
  /**
   * The next message and its sender. Rejects with `DecompressError` for a message that fails to
   * decompress (that message is lost, the channel keeps working) and `ClosedError` once the network
   * stopped.
   */
  recv(): Promise<[Uint8Array, Uint8Array]>
}

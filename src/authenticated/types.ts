/**
 * The user-facing message API shared by `authenticated` and (later) `simulated`: recipients,
 * channels, and the `Sender`/`Receiver` interfaces.
 *
 * ## Example
 * `await sender.send(Recipients.all(), bytes, false)` resolves with the keys it was queued for.
 */
import { ClosedError, DecompressError, InvalidArgumentError } from '../errors.js'

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

/**
 * Options of one send (`Sender.send` and `Sender.trySend`); a plain boolean in their place is `priority`.
 * Nothing of these travels on the wire: they decide what waits in the sender's per-peer queues.
 */
export interface SendOptions {
  /** Go ahead of queued normal messages (default false). */
  priority?: boolean
  /**
   * Supersede key: a message of the same channel and key still queued for a peer (not yet written)
   * is replaced by this one, which takes its place in the queue; the older one is counted in
   * `messages_dropped{reason="superseded"}`. Replacing needs no room, so it never waits or drops for a
   * full queue. For messages where only the newest matters: a vote per (height, round), a status.
   */
  key?: string | number | bigint
  /**
   * Time to live, ms from this call: a message still queued for a peer when it is older than this,
   * at the moment the writer would take it (or its room is needed), is dropped for that peer
   * (`messages_dropped{reason="expired"}`). A send that waits for room longer than this is dropped too.
   */
  ttlMs?: number
  /**
   * Hand `message` over instead of lending it (default false): the network sends it from its own
   * memory, without the copy it otherwise makes when the send is called, so the caller must not
   * modify it afterwards (what goes out is what it holds when the writer seals it, possibly after
   * `send` resolved). Saves a copy and an allocation per message: worth it from a few KiB (smaller
   * messages are copied anyway, which is cheaper there). A message shared by several sends may be
   * handed over by each of them as long as nobody modifies it.
   */
  transfer?: boolean
}

/** The sending half of a registered channel. */
export interface Sender {
  /**
   * Queue `message` for the recipients; resolves with the keys it was queued for (not proof of
   * delivery). Throws `MessageTooLargeError` (after compression, if the channel compresses), and
   * `InvalidArgumentError` for a `ttlMs` that is not a non-negative number or a key of another type.
   * `options` is a `SendOptions` or, as before, the `priority` boolean: priority messages go ahead of
   * queued normal ones.
   */
  send(recipients: Recipients, message: Uint8Array, options?: boolean | SendOptions): Promise<Uint8Array[]>
  /**
   * Offer `message` to the recipients without waiting: says which peers queued it, which had a full
   * queue and which are stalled (their socket accepts nothing); the message is dropped for the last
   * two (counted in `messages_dropped`). A message that supersedes a queued one (`key`) counts as
   * queued even when the queue is full. Throws as `send` does.
   */
  trySend(recipients: Recipients, message: Uint8Array, options?: boolean | SendOptions): SendOutcome
}

/**
 * `options` of `send`/`trySend` as one object: `priority` defaulted, `key` as a string. Throws
 * `InvalidArgumentError` for a bad `ttlMs` or `key`.
 * @internal shared by the authenticated and simulated senders
 */
export function sendOptions(options: boolean | SendOptions | undefined): { priority: boolean; key: string | undefined; ttlMs: number | undefined; transfer: boolean } {
  if (options === undefined || typeof options === 'boolean') return { priority: options === true, key: undefined, ttlMs: undefined, transfer: false }
  const { priority = false, key, ttlMs, transfer } = options
  if (ttlMs !== undefined && !(typeof ttlMs === 'number' && ttlMs >= 0 && ttlMs <= Number.MAX_SAFE_INTEGER)) {
    throw new InvalidArgumentError(`ttlMs must be a non-negative number of ms, got ${String(ttlMs)}`)
  }
  if (key !== undefined && typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'bigint') {
    throw new InvalidArgumentError(`key must be a string, number or bigint, got ${typeof key}`)
  }
  return { priority: priority === true, key: key === undefined ? undefined : String(key), ttlMs, transfer: transfer === true }
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

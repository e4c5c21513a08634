/**
 * The adversary harness: two honest nodes exchanging a steady, numbered message stream on two channels
 * (one compressed) while an attacker misbehaves, plus a raw attacker client that speaks just enough of
 * the protocol to misbehave at each step. Works on either runtime (`DeterministicRuntime` for attacks
 * that play with time, `NodeContext` on 127.0.0.1 for floods and memory bounds).
 */
import { expect } from 'vitest'
import { Config, Network, Recipients, type LookupPeer, type Oracle, type Receiver, type Sender } from '../../src/authenticated/index.js'
import { encodeMessage, encodeSocket, encodeHandshake, handshakePayload, IP_SUFFIX, peerRecordPayload, STREAM_SUFFIX, TRACKER_SUFFIX, withSuffix, type Message, type Peer } from '../../src/codec/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import type { Signer } from '../../src/crypto/scheme.js'
import { binding } from '../../src/native/load.js'
import { parseAddress, type Connection, type Context } from '../../src/runtime/context.js'
import { StreamConfig, upgradeDialer, type EncryptedConnection } from '../../src/stream/index.js'
import { frame } from '../../src/stream/framing.js'
import { Quota } from '../../src/utils/quota.js'

export const NS = new TextEncoder().encode('adversary-test')
export const STREAM_NS = withSuffix(NS, STREAM_SUFFIX)
export const IP_NS = withSuffix(withSuffix(NS, TRACKER_SUFFIX), IP_SUFFIX)
export const MAX_MESSAGE = 1 << 16
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** Who is who: A and B are honest; the insider is in the peer set but Byzantine; the outsider is not in it. */
export const alice = Ed25519.fromSeed(1)
export const bob = Ed25519.fromSeed(2)
export const insider = Ed25519.fromSeed(3)
export const outsider = Ed25519.fromSeed(99)
export const PEER_SET = [alice.publicKey, bob.publicKey, insider.publicKey]

/** Channels of the honest nodes: 0 plain, 1 zstd (both carry the steady stream), 2 tightly rate-limited (the flood target), 3 bulk, 4 small backlog (16). */
export const PLAIN = 0
export const PACKED = 1
export const LIMITED = 2
export const BULK = 3
export const SMALL = 4
export const LIMITED_QUOTA = Quota.perSecond(10)

export interface HonestNode {
  ctx: Context
  signer: Signer
  address: string
  network: Network
  oracle: Oracle
  channels: Map<number, [Sender, Receiver]>
  stop: () => Promise<void>
}

/** An honest node on `ctx`; `peerSet` is its set 0 (`[key, address]` pairs for a node in lookup mode). */
export function startHonest(ctx: Context, signer: Signer, address: string, bootstrap: HonestNode | undefined, patch: Partial<Config> = {}, peerSet: Uint8Array[] | LookupPeer[] = PEER_SET): HonestNode {
  const boot = bootstrap ? [{ publicKey: bootstrap.signer.publicKey, address: bootstrap.address }] : []
  const { network, oracle } = Network.create(ctx, { ...Config.test(signer, NS, address, boot, MAX_MESSAGE), ...patch })
  oracle.register(0n, peerSet)
  const channels = new Map<number, [Sender, Receiver]>([
    [PLAIN, network.register(PLAIN, Quota.perSecond(1000), 1024)],
    [PACKED, network.register(PACKED, Quota.perSecond(1000), 1024, 3)],
    [LIMITED, network.register(LIMITED, LIMITED_QUOTA, 1024)],
    [BULK, network.register(BULK, Quota.perSecond(1_000_000), 4096)],
    [SMALL, network.register(SMALL, Quota.perSecond(1_000_000), 16)],
  ])
  const handle = network.start()
  return { ctx, signer, address, network, oracle, channels, stop: () => handle.stop() }
}

/** Sum of a metric's values whose labels include `labels`. */
export async function metric(ctx: Context, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = ctx.registry.getSingleMetric(name)
  if (!m) return 0
  return (await m.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0)
}

export interface TrafficReport {
  sent: number
  received: number
  /** Messages that arrived out of order or with a gap, per (direction, channel). */
  outOfOrder: number
  /** Sends that were not queued for the peer (the honest connection was down or its queue full). */
  notQueued: number
}

/**
 * A steady stream of numbered messages in both directions between two honest nodes, on the plain and
 * the compressed channel, every `intervalMs`. `finish()` stops sending and resolves once everything
 * sent has been received (or rejects through the test timeout if anything was lost).
 */
export class Traffic {
  #running = true
  #sent = 0
  #received = 0
  #outOfOrder = 0
  #notQueued = 0
  #waiter: (() => void) | undefined
  readonly #loops: Promise<void>[] = []

  constructor(
    private readonly ctx: Context,
    private readonly a: HonestNode,
    private readonly b: HonestNode,
    intervalMs = 10,
  ) {
    for (const [from, to] of [[a, b], [b, a]] as const) {
      for (const channel of [PLAIN, PACKED]) {
        this.#loops.push(this.#send(from, to, channel, intervalMs))
        void this.#receive(to, from, channel)
      }
    }
  }

  async #send(from: HonestNode, to: HonestNode, channel: number, intervalMs: number): Promise<void> {
    const [sender] = from.channels.get(channel)!
    for (let seq = 0; this.#running; seq++) {
      const msg = new Uint8Array(64)
      new DataView(msg.buffer).setUint32(0, seq)
      msg.fill(channel + 1, 4)
      const to_ = await sender.send(Recipients.one(to.signer.publicKey), msg)
      if (to_.length === 1) this.#sent++
      else {
        this.#notQueued++
        seq-- // the receiver never saw it; send the same number again
      }
      await this.ctx.sleep(intervalMs)
    }
  }

  async #receive(at: HonestNode, from: HonestNode, channel: number): Promise<void> {
    const [, receiver] = at.channels.get(channel)!
    const want = hex(from.signer.publicKey)
    let next = 0
    for await (const [who, msg] of receiver) {
      if (hex(who) !== want) continue // the attacker's messages are not part of the honest stream
      const seq = new DataView(msg.buffer, msg.byteOffset).getUint32(0)
      if (seq !== next || msg.length !== 64 || msg[63] !== channel + 1) this.#outOfOrder++
      next = seq + 1
      this.#received++
      if (this.#waiter && this.#received >= this.#sent) this.#waiter()
    }
  }

  /** Messages received so far (for progress checks while an attack runs). */
  get received(): number {
    return this.#received
  }

  async finish(): Promise<TrafficReport> {
    this.#running = false
    await Promise.all(this.#loops)
    if (this.#received < this.#sent) await new Promise<void>((r) => (this.#waiter = r))
    return { sent: this.#sent, received: this.#received, outOfOrder: this.#outOfOrder, notQueued: this.#notQueued }
  }
}

/** A raw TCP (or in-memory) connection to `address`, as an attacker holds it. */
export function rawConnect(ctx: Context, address: string): Promise<Connection> {
  return ctx.dial(address)
}

/** Resolves once the other side closed the connection (end of stream). */
export async function closedByPeer(conn: Connection): Promise<true> {
  while ((await conn.stream.recv()) !== null) {
    // drain whatever the node sends until it closes
  }
  return true
}

export interface HandshakeOptions {
  namespace?: Uint8Array
  recipient?: Uint8Array
  timestampMs?: number
  ephemeral?: Uint8Array
}

/** A signed dialer handshake frame as an attacker would craft it (length-prefixed, ready to write). */
export function craftHandshake(ctx: Context, signer: Signer, to: Uint8Array, o: HandshakeOptions = {}): Uint8Array {
  const recipient = o.recipient ?? to
  const ephemeral = o.ephemeral ?? binding.x25519PublicKey(ctx.randomBytes(32))
  const timestamp = BigInt(Math.floor(o.timestampMs ?? ctx.now()))
  const signature = signer.sign(o.namespace ?? STREAM_NS, handshakePayload(recipient, ephemeral, timestamp))
  return frame(encodeHandshake({ recipientPublicKey: recipient, ephemeralPublicKey: ephemeral, timestamp, signature: { publicKey: signer.publicKey, signature } }))
}

/** An authenticated connection of a Byzantine peer: `conn` seals what it is given; `raw` writes bytes unsealed. */
export interface InsiderLink {
  conn: EncryptedConnection
  raw: Connection
  /** Seal and send one wire message. */
  send(m: Message): Promise<void>
}

/** Complete a real handshake with `target` as `signer` (the insider by default). */
export async function connectAs(ctx: Context, target: HonestNode, signer: Signer = insider): Promise<InsiderLink> {
  const raw = await ctx.dial(target.address)
  const conn = await upgradeDialer(ctx, StreamConfig.recommended(signer, STREAM_NS, MAX_MESSAGE + 64), raw, target.signer.publicKey)
  return { conn, raw, send: (m) => conn.send(encodeMessage(m)) }
}

/** A signed peer record as gossip carries it. */
export function record(signer: Signer, address: string, timestampMs: number, o: { namespace?: Uint8Array } = {}): Peer {
  const { host, port } = parseAddress(address)
  const socket = encodeSocket({ host, port })
  const timestamp = BigInt(Math.floor(timestampMs))
  return { socket, timestamp, signature: { publicKey: signer.publicKey, signature: signer.sign(o.namespace ?? IP_NS, peerRecordPayload(socket, timestamp)) } }
}

/**
 * Stop the honest stream and check it: everything sent was received, in order, nothing failed to
 * queue, at least `minSent` messages flowed, and Alice is still connected to Bob.
 */
export async function honestStreamIntact(traffic: Traffic, a: HonestNode, minSent: number): Promise<void> {
  const report = await traffic.finish()
  expect(report).toMatchObject({ outOfOrder: 0, notQueued: 0 })
  expect(report.received).toBe(report.sent)
  expect(report.sent).toBeGreaterThanOrEqual(minSent)
  expect(a.network.connected().map(hex)).toContain(hex(bob.publicKey))
}

/**
 * quorumnet: the authenticated network (one `Network` per node, each on its own `NodeContext`), on
 * whichever backend `P2P_NATIVE` selects in this process.
 *
 * A "connection" of the streaming scenarios is a peer of the network: `send` is
 * `sender.send(Recipients.one(peer), msg, { transfer: true })` awaited (it waits while the peer's queue
 * is full; the harness never modifies a message it sent, so it hands them over: no copy per send), and
 * messages from that peer go to its handler. The fan-out group is one `Recipients.all()` send. The
 * connection scenario uses the network's own handshake (`quorumnet/stream`: TCP, then the signed
 * Ed25519 + X25519 exchange, both keys verified), since a network dials on its own schedule.
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as AuthenticatedApi from '../../../src/authenticated/index.js'
import type * as CodecApi from '../../../src/codec/index.js'
import type * as CryptoApi from '../../../src/crypto/index.js'
import type * as RuntimeApi from '../../../src/runtime/index.js'
import type * as StreamApi from '../../../src/stream/index.js'
import type * as QuotaApi from '../../../src/utils/quota.js'
import { CLIENT_SEED, freePort, MAX_MESSAGE, SERVER_SEED } from '../common.js'
import type { Conn, Impl, Tuning } from './types.js'

/**
 * The quorumnet build under test: the sources under `E2E_QUORUMNET_ROOT` (the benchmark gate points it
 * at the baseline's build), else this repository's. Only these modules come from there; everything
 * else in the worker is this repository's harness, and it uses only API that both builds have.
 */
export const QUORUMNET_ROOT = process.env.E2E_QUORUMNET_ROOT ?? join(import.meta.dirname, '..', '..', '..')
const load = <T>(module: string): Promise<T> => import(pathToFileURL(join(QUORUMNET_ROOT, 'src', module)).href) as Promise<T>
const [{ Config, Network, Recipients }, { STREAM_SUFFIX, withSuffix }, { Ed25519 }, { NodeContext }, { StreamConfig, upgradeDialer, upgradeListener, verifyIncoming }, { Quota }] = await Promise.all([
  load<typeof AuthenticatedApi>('authenticated/index.ts'),
  load<typeof CodecApi>('codec/index.ts'),
  load<typeof CryptoApi>('crypto/index.ts'),
  load<typeof RuntimeApi>('runtime/index.ts'),
  load<typeof StreamApi>('stream/index.ts'),
  load<typeof QuotaApi>('utils/quota.ts'),
])
type Ed25519 = CryptoApi.Ed25519
type Network = AuthenticatedApi.Network
type Sender = AuthenticatedApi.Sender
type Receiver = AuthenticatedApi.Receiver
type StreamConfig = StreamApi.StreamConfig

const NS = new TextEncoder().encode('quorumnet-bench')
/** Room for the largest message of any scenario. */
const MAX_SIZE = MAX_MESSAGE + 1024
/** The channel's inbound quota per peer: high enough never to throttle. */
const UNLIMITED = Quota.perSecond(1_000_000_000)
const BACKLOG = 1024
/**
 * Per-peer queue capacity (`Config.mailboxSize`): the preset's 1,000, except 64 for messages of 64 KiB
 * and more. With 1,000 a sender that awaits each send queues 1 GB of 1 MiB messages for one peer, and
 * the peer's writer seals the whole queue as one batch (seconds with the event loop blocked, nothing
 * delivered in the meantime). `QN_MAILBOX` overrides both.
 */
const mailboxFor = (t: Tuning) => Number(process.env.QN_MAILBOX ?? (t.messageSize >= 65_536 ? 64 : 1_000))
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const serverKey = (i: number) => Ed25519.fromSeed(SERVER_SEED + i)
const clientKey = (i: number) => Ed25519.fromSeed(CLIENT_SEED + i)
/** Every node of a scenario registers the same peer set (a bit vector of another length ends the connection). */
const peerSet = (t: Tuning) => [...Array.from({ length: t.servers }, (_, i) => serverKey(i).publicKey), ...Array.from({ length: t.clients }, (_, i) => clientKey(i).publicKey)]

interface Node {
  network: Network
  tx: Sender
  address: string
  stop(): Promise<void>
  /** Handlers of incoming messages by sender key (hex). */
  handlers: Map<string, (m: Uint8Array) => void>
}

async function node(signer: Ed25519, boot: { publicKey: Uint8Array; address: string }[], t: Tuning): Promise<Node> {
  const address = `127.0.0.1:${await freePort()}`
  const ctx = new NodeContext()
  const cfg = { ...Config.test(signer, NS, address, boot, MAX_SIZE), mailboxSize: mailboxFor(t) }
  const { network, oracle } = Network.create(ctx, cfg)
  oracle.register(0, peerSet(t))
  const [tx, rx]: [Sender, Receiver] = network.register(0, UNLIMITED, BACKLOG)
  const handle = network.start()
  await handle.listening
  const handlers = new Map<string, (m: Uint8Array) => void>()
  // The network hands out the same key object for every message of a connection: look its handler
  // up by identity, so the harness does not hex-encode every sender key.
  let byKey = new Map<Uint8Array, ((m: Uint8Array) => void) | undefined>()
  let known = 0
  void (async () => {
    try {
      for (;;) {
        const [from, msg] = await rx.recv()
        if (known !== handlers.size) {
          byKey = new Map()
          known = handlers.size
        }
        let h = byKey.get(from)
        if (h === undefined && !byKey.has(from)) byKey.set(from, (h = handlers.get(hex(from))))
        h?.(msg)
      }
    } catch {
      // closed
    }
  })()
  return { network, tx, address, handlers, stop: () => handle.stop() }
}

/**
 * Every send hands its message over (`SendOptions.transfer`): the harness never modifies a sent
 * message. A build without the option (an older baseline of the gate) ignores it and copies.
 */
const HANDED_OVER = { transfer: true }

function conn(n: Node, peer: Uint8Array): Conn {
  const to = Recipients.one(peer)
  return {
    send: (msg) => n.tx.send(to, msg, HANDED_OVER),
    onMessage: (fn) => void n.handlers.set(hex(peer), fn),
  }
}

const connected = (n: Node, peer: Uint8Array) => n.network.whenPeers((c) => c.some((k) => hex(k) === hex(peer)))

function streamConfig(signer: Ed25519): StreamConfig {
  return StreamConfig.recommended(signer, withSuffix(NS, STREAM_SUFFIX), MAX_SIZE + 64)
}

export const quorumnet: Impl = {
  async listen(index, peers, onConn, tuning) {
    const clients = Array.from({ length: peers }, (_, i) => clientKey(i).publicKey)
    const n = await node(serverKey(index), [], tuning)
    for (const k of clients) void connected(n, k).then(() => onConn(conn(n, k)))
    return { info: { address: n.address, key: hex(serverKey(index).publicKey) }, close: () => n.stop() }
  },
  async dial(info, index, tuning) {
    const { address, key } = info as { address: string; key: string }
    const peer = Buffer.from(key, 'hex')
    const n = await node(clientKey(index), [{ publicKey: peer, address }], tuning)
    await connected(n, peer)
    return { ...conn(n, peer), close: () => n.stop() }
  },
  async group(infos, tuning) {
    const peers = infos.map((i) => (i as { address: string; key: string })).map(({ address, key }) => ({ publicKey: new Uint8Array(Buffer.from(key, 'hex')), address }))
    const n = await node(clientKey(0), peers, tuning)
    await n.network.whenConnected(peers.length)
    const all = Recipients.all()
    return { send: (msg) => n.tx.send(all, msg, HANDED_OVER), close: () => n.stop() }
  },
  async handshakeServer() {
    const ctx = new NodeContext()
    const cfg = streamConfig(serverKey(0))
    const l = await ctx.listen('127.0.0.1:0')
    void (async () => {
      for (let c = await l.accept(); c; c = await l.accept()) {
        const socket = c
        void (async () => {
          const e = await upgradeListener(ctx, await verifyIncoming(ctx, cfg, socket))
          await e.recv() // until the dialer closes
        })().catch(() => undefined)
      }
    })()
    return { info: { address: l.address, key: hex(serverKey(0).publicKey) }, close: () => l.close() }
  },
  async handshakeClient(info, index) {
    const { address, key } = info as { address: string; key: string }
    const peer = new Uint8Array(Buffer.from(key, 'hex'))
    const ctx = new NodeContext()
    const cfg = streamConfig(clientKey(index))
    return {
      async once() {
        const e = await upgradeDialer(ctx, cfg, await ctx.dial(address), peer)
        e.close()
      },
      close: () => undefined,
    }
  },
}

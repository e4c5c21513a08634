/**
 * js-libp2p (current major, versions pinned in bench/e2e/package.json): TCP + noise + yamux, no other
 * service. A connection of the streaming scenarios is one yamux stream of protocol `/bench/1.0.0`
 * carrying 4-byte length-prefixed messages; back-pressure is the stream's `drain` event (the only
 * reliable signal). The connection scenario dials (TCP, multistream-select, noise XX, yamux) and
 * closes, from separate client nodes since libp2p reuses a live connection to the same peer.
 *
 * Settings changed from the defaults, for the benchmark only: the per-host inbound connection rate
 * (5/s by default), pending inbound connections (10) and the connection limit, so that the connection
 * scenario is not refused.
 */
import { groupOf, LengthPrefixed, prefix, type Conn, type Impl } from './types.js'

/* The baselines are installed apart (bench/e2e) and loaded untyped, so typechecking does not need them. */
type Any = any

// js-libp2p 3 uses Promise.withResolvers (Node 22); Node 20 lacks it.
const P = Promise as Any
P.withResolvers ??= function <T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

const load = (name: string): Promise<Any> => import(name)
const PROTOCOL = '/bench/1.0.0'

async function create(listen: boolean): Promise<Any> {
  const [{ createLibp2p }, { tcp }, { noise }, { yamux }] = await Promise.all([load('libp2p'), load('@libp2p/tcp'), load('@chainsafe/libp2p-noise'), load('@chainsafe/libp2p-yamux')])
  return createLibp2p({
    addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: 1_000_000, maxIncomingPendingConnections: 1024, maxConnections: 4096 },
  })
}

function wrap(stream: Any): Conn {
  let handler: (m: Uint8Array) => void = () => undefined
  const parser = new LengthPrefixed((m) => handler(m))
  stream.addEventListener('message', (e: Any) => parser.push(e.data instanceof Uint8Array ? e.data : e.data.subarray()))
  return {
    send(msg) {
      let ok: boolean
      if (msg.length <= 65_536) {
        const f = new Uint8Array(4 + msg.length)
        f.set(prefix(msg.length))
        f.set(msg, 4)
        ok = stream.send(f)
      } else {
        stream.send(prefix(msg.length))
        ok = stream.send(msg)
      }
      if (ok) return
      return new Promise((r) => stream.addEventListener('drain', r, { once: true }))
    },
    onMessage(fn) {
      handler = fn
    },
  }
}

const addrOf = (node: Any): string => node.getMultiaddrs()[0].toString()

export const libp2p: Impl = {
  async listen(_index, _peers, onConn) {
    const node = await create(true)
    await node.handle(PROTOCOL, (stream: Any) => onConn(wrap(stream)), { maxInboundStreams: 1024 })
    return { info: { addr: addrOf(node) }, close: () => node.stop() }
  },
  async dial(info) {
    const { multiaddr } = await load('@multiformats/multiaddr')
    const node = await create(false)
    const stream = await node.dialProtocol(multiaddr((info as { addr: string }).addr), PROTOCOL)
    return { ...wrap(stream), close: () => node.stop() }
  },
  async group(infos, tuning) {
    const { multiaddr } = await load('@multiformats/multiaddr')
    const node = await create(false)
    const conns = await Promise.all(infos.map(async (i) => wrap(await node.dialProtocol(multiaddr((i as { addr: string }).addr), PROTOCOL))))
    return { ...groupOf(conns), close: () => node.stop() }
  },
  async handshakeServer() {
    const node = await create(true)
    return { info: { addr: addrOf(node) }, close: () => node.stop() }
  },
  async handshakeClient(info) {
    const { multiaddr } = await load('@multiformats/multiaddr')
    const node = await create(false)
    const ma = multiaddr((info as { addr: string }).addr)
    return {
      async once() {
        const c = await node.dial(ma)
        await c.close()
      },
      close: () => node.stop(),
    }
  },
}

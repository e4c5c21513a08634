/**
 * @hyperswarm/secret-stream (pinned in bench/e2e/package.json) over a plain node:net socket: noise XX
 * with Ed25519 keys, then libsodium secretstream. Each `write` is one message on the other side, so no
 * extra framing; back-pressure is the stream's `drain`. Both ends need `allowHalfOpen: true`. Keys are
 * checked after the handshake (the dialer expects the listener's key, the listener accepts only its
 * known dialers), as quorumnet does.
 */
import { connect, createServer, type Socket } from 'node:net'
import { CLIENT_SEED, SERVER_SEED } from '../common.js'
import { groupOf, type Conn, type Impl } from './types.js'

/* The baselines are installed apart (bench/e2e) and loaded untyped, so typechecking does not need them. */
type Any = any

let SecretStream: Any
async function lib(): Promise<Any> {
  SecretStream ??= (await import('@hyperswarm/secret-stream' as string)).default
  return SecretStream
}

const seedOf = (n: number) => {
  const s = Buffer.alloc(32)
  s.writeUInt32BE(n)
  return s
}
const keyPair = async (n: number) => (await lib()).keyPair(seedOf(n))
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function wrap(s: Any): Conn & { close(): void } {
  let handler: (m: Uint8Array) => void = () => undefined
  s.on('data', (m: Uint8Array) => handler(m))
  return {
    send(msg) {
      if (s.write(msg)) return
      return new Promise((r) => s.once('drain', r))
    },
    onMessage(fn) {
      handler = fn
    },
    close: () => s.destroy(),
  }
}

async function serve(index: number, peers: number, onConn: (c: Any) => void) {
  const Secret = await lib()
  const kp = await keyPair(SERVER_SEED + index)
  const allowed = new Set<string>()
  for (let i = 0; i < peers; i++) allowed.add(hex((await keyPair(CLIENT_SEED + i)).publicKey))
  const open = new Set<Any>()
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (sock: Socket) => {
    const s = new Secret(false, sock, { keyPair: kp })
    open.add(s)
    s.on('error', () => undefined)
    s.on('close', () => open.delete(s))
    s.on('connect', () => (allowed.has(hex(s.remotePublicKey)) ? onConn(s) : s.destroy()))
  })
  const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)))
  return {
    info: { port, key: hex(kp.publicKey) },
    close: () => {
      server.close()
      for (const s of open) s.destroy()
    },
  }
}

async function open(info: unknown, index: number, kp?: Any): Promise<Any> {
  const Secret = await lib()
  const { port, key } = info as { port: number; key: string }
  const sock = connect({ port, host: '127.0.0.1', noDelay: true, allowHalfOpen: true })
  const s = new Secret(true, sock, { keyPair: kp ?? (await keyPair(CLIENT_SEED + index)) })
  s.on('error', () => undefined)
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve)
    s.once('close', () => reject(new Error('secret-stream closed before the handshake')))
  })
  if (hex(s.remotePublicKey) !== key) {
    s.destroy()
    throw new Error('secret-stream: unexpected listener key')
  }
  return s
}

export const secretStream: Impl = {
  async listen(index, peers, onConn) {
    return serve(index, peers, (s) => onConn(wrap(s)))
  },
  async dial(info, index) {
    return wrap(await open(info, index))
  },
  async group(infos, tuning) {
    const conns = await Promise.all(infos.map(async (i) => wrap(await open(i, 0))))
    return { ...groupOf(conns), close: () => conns.forEach((c) => c.close()) }
  },
  async handshakeServer() {
    return serve(0, 64, () => undefined)
  },
  async handshakeClient(info, index) {
    const kp = await keyPair(CLIENT_SEED + index)
    return {
      async once() {
        ;(await open(info, index, kp)).destroy()
      },
      close: () => undefined,
    }
  },
}

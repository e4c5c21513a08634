/**
 * The ceiling: plain node:net TCP with a 4-byte length prefix per message, no encryption and no
 * authentication. The writes of one tick are corked into one writev; back-pressure is `drain`. A
 * "connection" in the connection scenario is the TCP handshake alone.
 */
import { connect, createServer, type Socket } from 'node:net'
import { groupOf, LengthPrefixed, prefix, type Conn, type Impl } from './types.js'

function wrap(sock: Socket): Conn & { close(): void } {
  let handler: (m: Uint8Array) => void = () => undefined
  const parser = new LengthPrefixed((m) => handler(m))
  sock.on('data', (d: Buffer) => parser.push(d))
  sock.on('error', () => undefined)
  let corked = false
  const uncork = () => {
    corked = false
    sock.uncork()
  }
  return {
    send(msg) {
      // Writes of one tick leave in one writev (as a tuned Node application would batch them).
      if (!corked) {
        corked = true
        sock.cork()
        process.nextTick(uncork)
      }
      sock.write(prefix(msg.length))
      if (sock.write(msg)) return
      return new Promise((r) => sock.once('drain', r))
    },
    onMessage(fn) {
      handler = fn
    },
    close: () => void sock.destroy(),
  }
}

function serve(onSocket: (s: Socket) => void): Promise<{ port: number; close(): void }> {
  const server = createServer({ noDelay: true }, onSocket)
  const open = new Set<Socket>()
  server.on('connection', (s) => {
    open.add(s)
    s.on('close', () => open.delete(s))
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as { port: number }).port,
        close: () => {
          server.close()
          for (const s of open) s.destroy()
        },
      }),
    ),
  )
}

function dialSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true })
    s.once('error', reject)
    s.once('connect', () => {
      s.off('error', reject)
      resolve(s)
    })
  })
}

export const raw: Impl = {
  async listen(_index, _peers, onConn) {
    const { port, close } = await serve((s) => onConn(wrap(s)))
    return { info: { port }, close }
  },
  async dial(info) {
    return wrap(await dialSocket((info as { port: number }).port))
  },
  async group(infos, tuning) {
    const conns = await Promise.all(infos.map((i) => raw.dial(i, 0, tuning)))
    return { ...groupOf(conns), close: () => conns.forEach((c) => c.close()) }
  },
  async handshakeServer() {
    const { port, close } = await serve((s) => {
      s.on('error', () => undefined)
      s.on('end', () => s.destroy())
    })
    return { info: { port }, close }
  },
  async handshakeClient(info) {
    const { port } = info as { port: number }
    return {
      async once() {
        const s = await dialSocket(port)
        s.on('error', () => undefined)
        s.destroy()
      },
      close: () => undefined,
    }
  },
}

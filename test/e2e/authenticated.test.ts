/**
 * The authenticated network on real loopback sockets: 12 nodes, one bootstrapper, test timing.
 * Waits on events (connections, messages), never on a clock; bounded by the test timeout.
 */
import { describe, expect, it } from 'vitest'
import { Config, Network, Recipients } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { NodeContext } from '../../src/runtime/index.js'
import { Quota } from '../../src/utils/quota.js'
import { freePort } from '../helpers/rust-peer.js'

const NS = new TextEncoder().encode('quorumnet-e2e')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('authenticated network over 127.0.0.1', () => {
  it('12 nodes find each other from one bootstrapper; every ordered pair exchanges on two channels', async () => {
    const n = 12
    const signers = Array.from({ length: n }, (_, i) => Ed25519.fromSeed(200 + i))
    const keys = signers.map((s) => s.publicKey)
    const ports = await Promise.all(signers.map(() => freePort()))
    const nodes = signers.map((signer, i) => {
      const ctx = new NodeContext()
      const boot = i === 0 ? [] : [{ publicKey: keys[0]!, address: `127.0.0.1:${ports[0]}` }]
      const { network, oracle } = Network.create(ctx, Config.test(signer, NS, `127.0.0.1:${ports[i]}`, boot, 1 << 20))
      oracle.register(0n, keys)
      const plain = network.register(0, Quota.perSecond(1000), 256)
      const packed = network.register(1, Quota.perSecond(1000), 256, 3)
      return { signer, network, plain, packed, handle: network.start() }
    })
    try {
      await Promise.all(nodes.map((x) => x.network.whenConnected(n - 1)))
      for (const which of ['plain', 'packed'] as const) {
        for (const x of nodes) {
          const to = await x[which][0].send(Recipients.all(), new TextEncoder().encode(hex(x.signer.publicKey)))
          expect(to).toHaveLength(n - 1)
        }
        for (const x of nodes) {
          const seen = new Set<string>()
          while (seen.size < n - 1) {
            const [from, msg] = await x[which][1].recv()
            expect(new TextDecoder().decode(msg)).toBe(hex(from))
            seen.add(hex(from))
          }
        }
      }
      const tooBig = await nodes[1]!.plain[0].send(Recipients.all(), new Uint8Array((1 << 20) + 1)).catch((e: unknown) => e)
      expect((tooBig as { code?: string }).code).toBe('ERR_MESSAGE_TOO_LARGE')
    } finally {
      await Promise.all(nodes.map((x) => x.handle.stop()))
    }
  }, 30_000)
})

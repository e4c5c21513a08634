// Two authenticated nodes on loopback: discovery from a bootstrapper, then one message each way.
// Run: npm run build && node examples/authenticated.mjs
import { Ed25519 } from 'quorumnet'
import { Config, Network, Quota, Recipients } from 'quorumnet/authenticated'
import { NodeContext } from 'quorumnet/runtime'

const namespace = new TextEncoder().encode('my-app')
const [alice, bob] = [Ed25519.fromSeed(0), Ed25519.fromSeed(1)]
const peers = [alice.publicKey, bob.publicKey]

function node(signer, listen, bootstrappers) {
  const ctx = new NodeContext()
  const cfg = Config.aggressive(signer, namespace, listen, bootstrappers, 1 << 20)
  const { network, oracle } = Network.create(ctx, cfg)
  oracle.register(0n, peers) // peer set 0: who may talk to whom
  const [sender, receiver] = network.register(0, Quota.perSecond(100), 1024, 3) // channel 0, zstd level 3
  return { network, sender, receiver, handle: network.start() }
}

const a = node(alice, '127.0.0.1:47001', [])
const b = node(bob, '127.0.0.1:47002', [{ publicKey: alice.publicKey, address: '127.0.0.1:47001' }])
await b.network.whenConnected(1)

const sentTo = await b.sender.send(Recipients.all(), new TextEncoder().encode('hello from bob'))
console.log('bob queued for', sentTo.length, 'peer(s)')
for await (const [from, msg] of a.receiver) {
  console.log('alice got', JSON.stringify(new TextDecoder().decode(msg)), 'from', Buffer.from(from).toString('hex').slice(0, 16))
  await a.sender.send(Recipients.one(from), new TextEncoder().encode('hi bob'), true)
  break
}
const [, reply] = await b.receiver.recv()
console.log('bob got', JSON.stringify(new TextDecoder().decode(reply)))
await Promise.all([a.handle.stop(), b.handle.stop()])

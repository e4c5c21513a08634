/**
 * sign::ed25519 / sign::bls12381 / dh::x25519: handshake costs (sign + verify on both sides, one DH).
 *
 * Baselines: the fallback and node:crypto (Ed25519 and X25519 through OpenSSL).
 */
import { createPrivateKey, createPublicKey, diffieHellman, sign, verify } from 'node:crypto'
import { unionUnique } from '../src/native/js/union.js'
import { backends, newBench, param, printRatios, randomBytes, type Row } from './util.js'

const NS = new TextEncoder().encode('bench_STREAM')
const MSG = randomBytes(72, 3)
const SEED = randomBytes(32, 5)
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex')

export async function run(): Promise<Row[]> {
  const bench = newBench('sign / dh (one operation per op)')
  for (const { name, b } of backends) {
    const pk = b.ed25519PublicKey(SEED)
    const sig = b.ed25519Sign(SEED, NS, MSG)
    bench.add(`sign::ed25519-sign/backend=${name}`, () => b.ed25519Sign(SEED, NS, MSG))
    bench.add(`sign::ed25519-verify/backend=${name}`, () => {
      if (!b.ed25519Verify(NS, MSG, pk, sig)) throw new Error('verify failed')
    })
    const peer = b.x25519PublicKey(randomBytes(32, 9))
    bench.add(`dh::x25519/backend=${name}`, () => b.x25519SharedSecret(SEED, peer))
  }
  for (const { name, b } of backends) {
    const sk = b.blsFromSeed(1n)
    const pk = b.blsPublicKey(sk)
    const sig = b.blsSign(sk, NS, MSG)
    bench.add(`sign::bls12381-sign/backend=${name}`, () => b.blsSign(sk, NS, MSG))
    bench.add(`sign::bls12381-verify/backend=${name}`, () => {
      if (!b.blsVerify(NS, MSG, pk, sig)) throw new Error('verify failed')
    })
  }
  const edKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, SEED]), format: 'der', type: 'pkcs8' })
  const edPub = createPublicKey(edKey)
  const payload = unionUnique(NS, MSG)
  const edSig = sign(null, payload, edKey)
  bench.add('sign::ed25519-sign/backend=node-crypto', () => sign(null, unionUnique(NS, MSG), edKey))
  bench.add('sign::ed25519-verify/backend=node-crypto', () => {
    if (!verify(null, unionUnique(NS, MSG), edPub, edSig)) throw new Error('verify failed')
  })
  const xKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, SEED]), format: 'der', type: 'pkcs8' })
  const xPeer = createPublicKey(
    createPrivateKey({ key: Buffer.concat([PKCS8_X25519, Buffer.from(randomBytes(32, 9))]), format: 'der', type: 'pkcs8' }),
  )
  bench.add('dh::x25519/backend=node-crypto', () => diffieHellman({ privateKey: xKey, publicKey: xPeer }))
  await bench.run()
  return printRatios(bench, {
    group: (t) => t.split('/')[0] ?? t,
    who: (t) => param(t, 'backend'),
    baselines: ['js', 'node-crypto'],
  })
}

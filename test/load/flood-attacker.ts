/**
 * The connection-flood attacker of flood.test.ts, run as its own process (`node --import tsx`) so its
 * work does not share the node's event loop. Opens connections to a target at a fixed rate, for a
 * fixed time, from many source addresses in 127.0.0.0/8 (one per /24), cycling through four kinds:
 * - `outsider`: a correctly signed handshake from a key outside the peer set;
 * - `storm`: a correctly signed handshake from a key inside the set (a reconnect storm), closed when
 *   answered;
 * - `close`: connect and close at once;
 * - `partial`: half a length prefix, then nothing until the target closes the connection.
 * Bounded: it stops after `seconds` and prints one JSON line of what it did.
 *
 * Arguments (JSON in argv[2]): { target: "127.0.0.1:port", recipient: hex key, insiderSeed, rate,
 * seconds, sources }
 */
import { connect, type Socket } from 'node:net'
import { Ed25519 } from '../../src/crypto/index.js'
import { NodeContext } from '../../src/runtime/index.js'
import { parseAddress } from '../../src/runtime/context.js'
import { craftHandshake } from '../adversary/harness.js'

interface Args {
  target: string
  recipient: string
  insiderSeed: number
  rate: number
  seconds: number
  sources: number
}

const args = JSON.parse(process.argv[2]!) as Args
const { host, port } = parseAddress(args.target)
const recipient = new Uint8Array(Buffer.from(args.recipient, 'hex'))
const ctx = new NodeContext()
const insider = Ed25519.fromSeed(args.insiderSeed)
const outsiders = Array.from({ length: 16 }, (_, i) => Ed25519.fromSeed(1_000 + i))
const KINDS = ['outsider', 'storm', 'close', 'partial'] as const
/** Source i is 127.<1 + i / 250>.<i % 250>.7: every source in its own /24, none in 127.0.0.0/24. */
const source = (i: number): string => `127.${1 + Math.floor(i / 250)}.${i % 250}.7`

const counts = { attempts: 0, connected: 0, errors: 0, answered: 0, byKind: { outsider: 0, storm: 0, close: 0, partial: 0 } }
let open = 0

function attack(n: number): void {
  const kind = KINDS[n % KINDS.length]!
  counts.attempts++
  counts.byKind[kind]++
  open++
  const s: Socket = connect({ host, port, localAddress: source(n % args.sources) })
  s.on('error', () => counts.errors++)
  s.on('close', () => open--)
  s.on('data', () => {
    counts.answered++
    s.destroy()
  })
  s.once('connect', () => {
    counts.connected++
    switch (kind) {
      case 'outsider':
        s.write(craftHandshake(ctx, outsiders[n % outsiders.length]!, recipient))
        break
      case 'storm':
        s.write(craftHandshake(ctx, insider, recipient))
        break
      case 'close':
        s.destroy()
        break
      case 'partial':
        s.write(Uint8Array.of(0, 0))
        break
    }
  })
}

console.log('"start"')
const t0 = performance.now()
let launched = 0
await new Promise<void>((done) => {
  const tick = () => {
    const elapsed = (performance.now() - t0) / 1000
    if (elapsed >= args.seconds) return done()
    const due = Math.floor(elapsed * args.rate)
    while (launched < due) attack(launched++)
    setTimeout(tick, 1)
  }
  tick()
})
const seconds = (performance.now() - t0) / 1000
// Wait (bounded) for the partial handshakes still held to be closed by the target.
for (let i = 0; i < 100 && open > 0; i++) await new Promise((r) => setTimeout(r, 100))
console.log(JSON.stringify({ ...counts, seconds, ratePerS: counts.attempts / seconds, stillOpen: open }))
process.exit(0)

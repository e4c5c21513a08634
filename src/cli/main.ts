/**
 * The `quorumnet` command: `demo`, `node`, `keygen`, `doctor`, `check-peers`.
 *
 * ## Design
 * `main(argv, io)` dispatches on the first argument and returns the exit code; `bin/quorumnet.mjs`
 * calls it with the process's streams and signals. A `UsageError` (bad flag, bad config, port in use)
 * becomes one line, `quorumnet: <problem>`, on stderr and exit code 2; anything else is a bug and is
 * reported with its stack (exit code 70).
 *
 * ## Not provided
 * Shell completion, a config generator beyond `keygen`.
 *
 * ## Example
 * ```sh
 * quorumnet keygen --seed 1
 * quorumnet demo --seconds 10
 * quorumnet node --config node.json
 * quorumnet doctor
 * quorumnet check-peers --config node.json
 * ```
 */
import { Bls12381, Ed25519 } from '../crypto/index.js'
import { NodeContext } from '../runtime/node.js'
import { intFlag, parseFlags, stringFlag, UsageError } from './args.js'
import { DEMO_USAGE, runDemo } from './demo.js'
import { runCheckPeers } from './checkpeers.js'
import { runDoctor } from './doctor.js'
import { hex, schemeOf } from './keys.js'
import { runNode, type NodeIo } from './node.js'

export { UsageError } from './args.js'

export const USAGE = `usage: quorumnet <command> [flags]

commands:
  demo     run a local network on loopback with a live view (quorumnet demo --help)
  node     run one node from a JSON config, with a chat on stdin (quorumnet node --help)
  keygen   print a new key pair in hex (quorumnet keygen --help)
  doctor   print the backend (native addon or fallback), its versions, CPU features and why (quorumnet doctor --help)
  check-peers  handshake with every key of a peer set and say which are reachable, and why not (quorumnet check-peers --help)`

const KEYGEN_USAGE = `usage: quorumnet keygen [--seed N] [--scheme ed25519|bls12381]

Prints {"scheme", "privateKey", "publicKey"} as JSON. Without --seed the key is random; with it the
key is the one Ed25519.fromSeed(N) (or Bls12381.fromSeed(N)) gives, for tests and demos only.`

function keygen(argv: string[], io: NodeIo): number {
  const flags = parseFlags(argv, { seed: { type: 'string' }, scheme: { type: 'string' } })
  if (flags.help) {
    io.stdout.write(KEYGEN_USAGE + '\n')
    return 0
  }
  const scheme = flags.scheme === undefined ? 'ed25519' : schemeOf('--scheme', stringFlag(flags, 'scheme'))
  const cls = scheme === 'ed25519' ? Ed25519 : Bls12381
  const seed = flags.seed === undefined ? undefined : intFlag(flags, 'seed', 0, 0, Number.MAX_SAFE_INTEGER)
  const ctx = new NodeContext()
  const signer = seed === undefined ? cls.generate((n) => ctx.randomBytes(n)) : cls.fromSeed(seed)
  io.stdout.write(JSON.stringify({ scheme, privateKey: hex(signer.privateKey()), publicKey: hex(signer.publicKey) }, null, 2) + '\n')
  return 0
}

/** Run the command; resolves with the exit code. */
export async function main(argv: string[], io: NodeIo): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'demo':
        return await runDemo(rest, io as NodeIo & { stdout: { isTTY?: boolean } })
      case 'node':
        return await runNode(rest, io)
      case 'keygen':
        return keygen(rest, io)
      case 'doctor':
        return runDoctor(rest, io)
      case 'check-peers':
        return await runCheckPeers(rest, io)
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE + '\n')
        return command === undefined ? 2 : 0
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)} (commands: demo, node, keygen, doctor, check-peers)`)
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`quorumnet: ${e.message}\n`)
      return 2
    }
    io.stderr.write(`quorumnet: internal error, please report it: ${(e as Error).stack ?? String(e)}\n`)
    return 70
  }
}

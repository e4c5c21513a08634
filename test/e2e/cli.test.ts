/**
 * The `quorumnet` command as a user runs it: keygen, every error path (one line, exit 2, no stack),
 * the demo's pass/fail summary, and two `quorumnet node` processes chatting over 127.0.0.1 with
 * metrics served over HTTP and a clean exit on SIGTERM.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, onTestFailed } from 'vitest'
import { Ed25519 } from '../../src/crypto/index.js'
import { built, runCli, startCli, type Cli } from '../helpers/cli.js'
import { freePort } from '../helpers/rust-peer.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const dir = mkdtempSync(join(tmpdir(), 'quorumnet-cli-'))
let files = 0
const writeConfig = (content: unknown): string => {
  const path = join(dir, `node-${files++}.json`)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

const [alice, bob] = [Ed25519.fromSeed(1), Ed25519.fromSeed(2)]
const baseConfig = (port: number) => ({
  privateKey: hex(alice.privateKey()),
  namespace: 'cli-test',
  listen: `127.0.0.1:${port}`,
  peerSets: [{ index: 0, peers: [hex(alice.publicKey), hex(bob.publicKey)] }],
  preset: 'test',
})

/** Expect the one-line error contract: exit 2, a single `quorumnet: ...` line, no stack trace. */
async function expectUsageError(args: string[], pattern: RegExp): Promise<void> {
  const { code, stdout, stderr } = await runCli(args)
  expect(code).toBe(2)
  expect(stdout).toBe('')
  const lines = stderr.split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^quorumnet: /)
  expect(lines[0]).toMatch(pattern)
  expect(stderr).not.toMatch(/\n\s+at /)
}

describe.skipIf(!built)('quorumnet command', () => {
  const running: Cli[] = []
  afterEach(() => {
    for (const c of running.splice(0)) c.proc.kill('SIGKILL')
  })

  describe('keygen', () => {
    it('--seed N prints the key pair Ed25519.fromSeed(N) gives, in hex', async () => {
      const { code, stdout } = await runCli(['keygen', '--seed', '7'])
      expect(code).toBe(0)
      const k = Ed25519.fromSeed(7)
      expect(JSON.parse(stdout)).toEqual({ scheme: 'ed25519', privateKey: hex(k.privateKey()), publicKey: hex(k.publicKey) })
    })

    it('without a seed prints a fresh random key each time, whose public key matches its private key', async () => {
      const [a, b] = await Promise.all([runCli(['keygen']), runCli(['keygen', '--scheme', 'bls12381'])])
      const ka = JSON.parse(a.stdout) as { privateKey: string; publicKey: string }
      expect(hex(Ed25519.fromPrivateKey(Buffer.from(ka.privateKey, 'hex')).publicKey)).toBe(ka.publicKey)
      expect(JSON.parse(b.stdout)).toMatchObject({ scheme: 'bls12381', publicKey: expect.stringMatching(/^[0-9a-f]{96}$/) })
      const again = JSON.parse((await runCli(['keygen'])).stdout) as { privateKey: string }
      expect(again.privateKey).not.toBe(ka.privateKey)
    })
  })

  describe('errors are one clear line', () => {
    it('unknown command', () => expectUsageError(['frobnicate'], /unknown command "frobnicate"/))
    it('bad flag', () => expectUsageError(['demo', '--nodez', '3'], /unknown flag --nodez/))
    it('flag without its value', () => expectUsageError(['demo', '--nodes'], /--nodes needs a value/))
    it('flag value out of range', () => expectUsageError(['demo', '--nodes', '1'], /--nodes must be an integer from 2 to 32, got "1"/))
    it('bad scheme', () => expectUsageError(['keygen', '--scheme', 'rsa'], /--scheme must be one of ed25519, bls12381/))
    it('node without --config', () => expectUsageError(['node'], /node needs --config/))
    it('missing config file', () => expectUsageError(['node', '--config', join(dir, 'absent.json')], /absent\.json: no such file/))
    it('invalid JSON', () => expectUsageError(['node', '--config', writeConfig('{ "namespace": ')], /node-\d+\.json: invalid JSON/))
    it('unknown field', () => expectUsageError(['node', '--config', writeConfig({ ...baseConfig(1), listenn: 'x' })], /unknown field "listenn"/))
    it('unknown field in a nested object', () =>
      expectUsageError(['node', '--config', writeConfig({ ...baseConfig(1), bootstrappers: [{ publicKey: hex(bob.publicKey), address: '127.0.0.1:1', port: 2 }] })], /bootstrappers\[0\]: unknown field "port"/))
    it('private key of the wrong length', () =>
      expectUsageError(['node', '--config', writeConfig({ ...baseConfig(1), privateKey: 'abcd' })], /privateKey must be 64 hex characters/))
    it('public key that is not a curve point', () =>
      expectUsageError(['node', '--config', writeConfig({ ...baseConfig(1), peerSets: [{ index: 0, peers: ['02' + '00'.repeat(31)] }] })], /peerSets\[0\]\.peers\[0\] is not a valid ed25519 public key/))
    it('wrong type', () => expectUsageError(['node', '--config', writeConfig({ ...baseConfig(1), channels: [{ id: 'zero' }] })], /channels\[0\]\.id must be an integer/))
    it('unknown overflow policy', () =>
      expectUsageError(['node', '--config', writeConfig({ ...baseConfig(1), channels: [{ id: 0, overflow: 'sometimes' }] })], /channels\[0\]\.overflow must be one of "wait", "drop-newest", "drop-oldest", got "sometimes"/))
    it('bad address', () => expectUsageError(['node', '--config', writeConfig({ ...baseConfig(1), listen: 'localhost:80' })], /listen: must be an IP literal and port/))
    it('port already in use', async () => {
      const port = await freePort()
      const first = startCli(['node', '--config', writeConfig(baseConfig(port))])
      running.push(first)
      await first.until((c) => c.logs.some((l) => l.msg === 'started'))
      await expectUsageError(['node', '--config', writeConfig(baseConfig(port))], new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`))
    })
  })

  it('demo: nodes discover each other from one bootstrapper, and the summary says every node reached every other', async () => {
    const { code, stdout } = await runCli(['demo', '--nodes', '3', '--seconds', '5', '--seed', '11'])
    expect(stdout).toMatch(/quorumnet demo: 3 nodes on 127\.0\.0\.1/)
    expect(stdout).toMatch(/node\s+key\s+peers\s+reached/)
    for (const i of [0, 1, 2]) expect(stdout).toMatch(new RegExp(`node ${i} [0-9a-f]{8}: reached 2/2, sent \\d+ msgs, received \\d+ msgs`))
    expect(stdout).toMatch(/result: OK, every node reached every other node \(6\/6 pairs\)/)
    expect(code).toBe(0)
  })

  it('node: two processes on 127.0.0.1 chat through stdin/stdout, serve metrics, and stop cleanly on SIGTERM', async () => {
    const [pa, pb, ma] = [await freePort(), await freePort(), await freePort()]
    const a = startCli(['node', '--config', writeConfig({ ...baseConfig(pa), metrics: `127.0.0.1:${ma}` })])
    running.push(a)
    await a.until((c) => c.logs.some((l) => l.msg === 'started'))
    const b = startCli([
      'node',
      '--config',
      writeConfig({ ...baseConfig(pb), privateKey: hex(bob.privateKey()), bootstrappers: [{ publicKey: hex(alice.publicKey), address: `127.0.0.1:${pa}` }] }),
    ])
    running.push(b)
    // If this test fails (or times out), show what each process printed: which step never came.
    onTestFailed(() => {
      for (const [name, c] of [['alice', a], ['bob', b]] as const) console.error(`${name} stdout:\n${c.stdout.join('\n')}\n${name} stderr:\n${c.stderr.join('\n')}`)
    })
    const connected = (to: Uint8Array) => (c: Cli) => c.logs.some((l) => l.msg === 'peer_connected' && l.peer === hex(to))
    await Promise.all([a.until(connected(bob.publicKey)), b.until(connected(alice.publicKey))])

    b.proc.stdin.write('hello from bob\n')
    await a.until((c) => c.stdout.includes(`${hex(bob.publicKey).slice(0, 16)}: hello from bob`))
    a.proc.stdin.write('hi bob, ünïcode ok\n')
    await b.until((c) => c.stdout.includes(`${hex(alice.publicKey).slice(0, 16)}: hi bob, ünïcode ok`))
    expect(b.logs.find((l) => l.msg === 'chat_sent')).toMatchObject({ peers: 1, bytes: 14 })

    const metrics = await (await fetch(`http://127.0.0.1:${ma}/metrics`)).text()
    expect(metrics).toContain(`messages_received{peer="${hex(bob.publicKey)}",message="0"} 1`)
    expect(metrics).toContain(`messages_sent{peer="${hex(bob.publicKey)}",message="0"} 1`)
    expect(metrics).toMatch(/^p2p_backend_native [01]$/m)

    a.proc.kill('SIGTERM')
    b.proc.kill('SIGINT')
    expect(await a.exited).toBe(0)
    expect(await b.exited).toBe(0)
    expect(a.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['stopping', 'stopped']))
    expect(b.logs.find((l) => l.msg === 'stopping')).toMatchObject({ signal: 'SIGINT' })
    for (const l of [...a.logs, ...b.logs]) expect(l).toMatchObject({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), level: expect.any(String) })
  })
})

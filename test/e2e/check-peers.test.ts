/**
 * `quorumnet check-peers` against real peers on 127.0.0.1: a node that accepts us (reachable, with its
 * round trip and clock skew), a peer that answers with another key (wrong_key), one whose clock is 8 s
 * ahead (clock_skew, with the skew), a node of another key at the address (it closes a handshake not
 * addressed to it: refused), a port with nothing listening (refused), and a socket that never answers
 * (timeout). One line each, a summary, exit 1 when any failed and 0 when all are reachable.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { STREAM_SUFFIX, withSuffix } from '../../src/codec/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { binding } from '../../src/native/load.js'
import { StreamConfig, createHandshake, frame } from '../../src/stream/index.js'
import { built, runCli, startCli, type Cli } from '../helpers/cli.js'
import { freePort } from '../helpers/rust-peer.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const dir = mkdtempSync(join(tmpdir(), 'quorumnet-check-'))
let files = 0
const writeConfig = (content: unknown): string => {
  const path = join(dir, `node-${files++}.json`)
  writeFileSync(path, JSON.stringify(content))
  return path
}
const NS = 'check-peers-test'
// alice checks; bob is a node; carol's address answers as mallory; dave's clock is 8 s ahead;
// erin's address is a node with frank's key; gina has nothing listening; hal never answers.
const key = (i: number): Ed25519 => Ed25519.fromSeed(60 + i)
const [alice, bob, carol, dave, erin, frank, gina, hal, mallory] = [key(1), key(2), key(3), key(4), key(5), key(6), key(7), key(8), key(9)] as const

/** A peer that answers any handshake with its own signed one (as `signer`, `clockMs` ahead), then holds. */
function responder(signer: Ed25519, clockMs: number): Server {
  const cfg = StreamConfig.recommended(signer, withSuffix(new TextEncoder().encode(NS), STREAM_SUFFIX), 1 << 16)
  return createServer((socket: Socket) => {
    socket.once('data', () => {
      const eph = binding.x25519PublicKey(new Uint8Array(32).fill(7))
      socket.write(frame(createHandshake(cfg, alice.publicKey, eph, Date.now() + clockMs)))
    })
    socket.on('error', () => undefined)
  })
}

const listen = (s: Server, port: number) => new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve))

describe.skipIf(!built)('quorumnet check-peers', () => {
  const running: Cli[] = []
  const servers: Server[] = []
  const ports: Record<string, number> = {}
  let aliceFile = ''

  beforeAll(async () => {
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'gina', 'hal']) ports[name] = await freePort()
    const set = [alice, bob, carol, dave, erin, gina, hal].map((k) => hex(k.publicKey))
    const node = (signer: Ed25519, port: number, peers: string[]) =>
      startCli(['node', '--config', writeConfig({ privateKey: hex(signer.privateKey()), namespace: NS, listen: `127.0.0.1:${port}`, peerSets: [{ index: 0, peers }], preset: 'test' })])
    running.push(node(bob, ports.bob!, set), node(frank, ports.erin!, [hex(alice.publicKey), hex(frank.publicKey)]))
    servers.push(responder(mallory, 0), responder(dave, 8_000), createServer((s) => s.on('error', () => undefined)))
    await Promise.all([listen(servers[0]!, ports.carol!), listen(servers[1]!, ports.dave!), listen(servers[2]!, ports.hal!)])
    await Promise.all(running.map((c) => c.until((x) => x.logs.some((l) => l.msg === 'started'))))
    aliceFile = writeConfig({
      privateKey: hex(alice.privateKey()),
      namespace: NS,
      listen: `127.0.0.1:${ports.alice}`,
      bootstrappers: [{ publicKey: hex(bob.publicKey), address: `127.0.0.1:${ports.bob}` }],
      peerSets: [{ index: 0, peers: set }],
      preset: 'test',
    })
  })
  afterEach(() => undefined)
  afterAll(() => {
    for (const c of running) c.proc.kill('SIGKILL')
    for (const s of servers) s.close()
  })

  it('one line per key with what happened, and exit 1 when any failed', async () => {
    const peer = (k: Ed25519, name: string) => ['--peer', `${hex(k.publicKey)}@127.0.0.1:${ports[name]}`]
    const { code, stdout, stderr } = await runCli([
      'check-peers', '--config', aliceFile, '--timeout-ms', '2000',
      ...peer(carol, 'carol'), ...peer(dave, 'dave'), ...peer(erin, 'erin'), ...peer(gina, 'gina'), ...peer(hal, 'hal'),
    ])
    expect(stderr).toBe('')
    const line = (k: Ed25519) => stdout.split('\n').find((l) => l.includes(hex(k.publicKey).slice(0, 16)))!
    expect(line(bob)).toMatch(/^ok +[0-9a-f]{16} 127\.0\.0\.1:\d+ +reachable: rtt \d+ ms, clock skew [+-]?\d+ ms$/)
    expect(line(carol)).toMatch(new RegExp(`^FAIL .*wrong key \\(WrongPeer\\): another key answered by ${hex(mallory.publicKey)}`))
    expect(line(dave)).toMatch(/^FAIL .*clock skew \(InvalidTimestampFuture\): its clock is \+\d+ ms from ours, ahead beyond the 5000 ms synchrony bound/)
    const skew = Number(/\+(\d+) ms from ours/.exec(line(dave))![1])
    expect(skew).toBeGreaterThan(7_500)
    expect(skew).toBeLessThan(8_500)
    expect(line(erin)).toMatch(/^FAIL .*refused: closed before answering/)
    expect(line(gina)).toMatch(/^FAIL .*refused: connection refused \(nothing listening\)/)
    expect(line(hal)).toMatch(/^FAIL .*timeout: no answer in 2000 ms/)
    expect(line(alice)).toBeUndefined()
    expect(stdout).toMatch(/^1\/6 reachable$/m)
    expect(code).toBe(1)
  })

  it('--json gives the same as data; exit 0 when every key is reachable', async () => {
    const onlyBob = writeConfig({
      privateKey: hex(alice.privateKey()),
      namespace: NS,
      listen: `127.0.0.1:${ports.alice}`,
      bootstrappers: [{ publicKey: hex(bob.publicKey), address: `127.0.0.1:${ports.bob}` }],
      peerSets: [{ index: 0, peers: [hex(alice.publicKey)] }, { index: 1, peers: [hex(alice.publicKey), hex(bob.publicKey)] }],
      preset: 'test',
    })
    const { code, stdout } = await runCli(['check-peers', '--config', onlyBob, '--json'])
    const results = JSON.parse(stdout) as { publicKey: string; status: string; rttMs: number; skewMs: number; skewWarning: boolean }[]
    expect(results).toEqual([{ publicKey: hex(bob.publicKey), address: `127.0.0.1:${ports.bob}`, status: 'reachable', rttMs: expect.any(Number), skewMs: expect.any(Number), skewWarning: false, detail: expect.stringMatching(/^reachable/) }])
    expect(Math.abs(results[0]!.skewMs)).toBeLessThan(1_000)
    expect(code).toBe(0)
  })

  it('a key with no address, a set the file lacks and a bad --peer are reported plainly', async () => {
    const noAddress = await runCli(['check-peers', '--config', aliceFile, '--timeout-ms', '2000'])
    expect(noAddress.stdout).toMatch(new RegExp(`FAIL ${hex(carol.publicKey).slice(0, 16)} - +no address`))
    expect(noAddress.code).toBe(1)
    const noSet = await runCli(['check-peers', '--config', aliceFile, '--set', '3'])
    expect(noSet).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^quorumnet: --set 3: the file has no peer set of that index \(it has 0\)$/) })
    const badPeer = await runCli(['check-peers', '--config', aliceFile, '--peer', 'abcd'])
    expect(badPeer).toMatchObject({ code: 2, stderr: expect.stringMatching(/^quorumnet: --peer must be <hex key>@<ip:port>/) })
  })
})

import { describe, expect, it } from 'vitest'
import {
  CompressError,
  DecodeError,
  DecompressError,
  DecryptFailedError,
  FrameEmptyError,
  FrameTooLargeError,
  InvalidArgumentError,
  InvalidConfigError,
  NativeUnavailableError,
  NonceOverflowError,
  P2pError,
  isP2pError,
  HandshakeError,
  HandshakeTimeoutError,
  ClosedError,
  CompressionUnavailableError,
  NativeVersionMismatchError,
  PeerRefusedError,
} from '../../src/errors.js'
import { typedError } from '../../src/native/codes.js'

describe('typed errors', () => {
  const table: [P2pError, string, string, RegExp][] = [
    [new NativeUnavailableError(), 'NativeUnavailableError', 'ERR_NATIVE_UNAVAILABLE', /native addon/],
    [new InvalidArgumentError('key must be 32 bytes'), 'InvalidArgumentError', 'ERR_INVALID_ARGUMENT', /32 bytes/],
    [new InvalidConfigError('mailboxSize', 'must be >= 1'), 'InvalidConfigError', 'ERR_INVALID_CONFIG', /^mailboxSize: must/],
    [new FrameTooLargeError(10, 5), 'FrameTooLargeError', 'ERR_FRAME_TOO_LARGE', /10 bytes exceeds the limit of 5/],
    [new FrameEmptyError(), 'FrameEmptyError', 'ERR_FRAME_EMPTY', /length zero/],
    [new DecryptFailedError(3), 'DecryptFailedError', 'ERR_DECRYPT_FAILED', /frame 3/],
    [new NonceOverflowError(), 'NonceOverflowError', 'ERR_NONCE_OVERFLOW', /nonce/],
    [new DecodeError('truncated'), 'DecodeError', 'ERR_DECODE', /truncated/],
    [new DecompressError('bomb'), 'DecompressError', 'ERR_DECOMPRESS', /bomb/],
    [new CompressError('level'), 'CompressError', 'ERR_COMPRESS', /level/],
    [new HandshakeError('WrongPeer', 'expected ab'), 'HandshakeError', 'ERR_AUTH_FAILED', /\(WrongPeer\): expected ab/],
    [new HandshakeTimeoutError('127.0.0.1:1', 5000), 'HandshakeTimeoutError', 'ERR_HANDSHAKE_TIMEOUT', /no handshake in 5000ms/],
    [new ClosedError(), 'ClosedError', 'ERR_CLOSED', /closed/],
    [new CompressionUnavailableError('no engine', 3), 'CompressionUnavailableError', 'ERR_COMPRESSION_UNAVAILABLE', /^channel 3 asks for zstd compression, which is not available on this platform \(no engine\)$/],
    [new NativeVersionMismatchError('/x.node', '0.0.9', '0.1.0'), 'NativeVersionMismatchError', 'ERR_NATIVE_VERSION_MISMATCH', /\/x\.node is version 0\.0\.9, but quorumnet is 0\.1\.0/],
    [new PeerRefusedError('key_rate'), 'PeerRefusedError', 'ERR_PEER_REFUSED', /peer refused \(key_rate\)/],
  ]
  it.each(table)('%s has its name, code and message', (err, name, code, message) => {
    expect(err).toBeInstanceOf(P2pError)
    expect(err.name).toBe(name)
    expect(err.code).toBe(code)
    expect(err.message).toMatch(message)
    expect(isP2pError(err)).toBe(true)
    expect(isP2pError(err, code as P2pError['code'])).toBe(true)
    expect(isP2pError(err, code === 'ERR_CLOSED' ? 'ERR_DECODE' : 'ERR_CLOSED')).toBe(false)
  })

  it('isP2pError recognises the brand across copies of the package, and nothing else', () => {
    const foreign = Object.assign(new Error('x'), { code: 'ERR_CLOSED', [Symbol.for('quorumnet.error')]: true })
    expect(isP2pError(foreign, 'ERR_CLOSED')).toBe(true)
    expect(isP2pError(new Error('ERR_CLOSED: x'))).toBe(false)
    expect(isP2pError(null)).toBe(false)
  })

  it('coded backend errors become typed errors', () => {
    const tooLarge = typedError(new Error('ERR_FRAME_TOO_LARGE: plaintext of 70 bytes exceeds limit 64'))
    expect(tooLarge).toBeInstanceOf(FrameTooLargeError)
    expect((tooLarge as FrameTooLargeError).size).toBe(70)
    expect((tooLarge as FrameTooLargeError).limit).toBe(64)
    expect(typedError(new Error('ERR_NONCE_OVERFLOW: exhausted'))).toBeInstanceOf(NonceOverflowError)
    expect(typedError(new Error('ERR_INVALID_ARGUMENT: key must be 32 bytes')).message).toBe('key must be 32 bytes')
    expect(typedError(new Error('something else')).code).toBe('ERR_INVALID_ARGUMENT')
  })
})

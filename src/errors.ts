/**
 * Typed errors for every failure quorumnet reports.
 *
 * ## Design
 * One base class, `P2pError`, carrying a stable `code`; one subclass per failure a caller may want to
 * catch by type. Code that handles errors branches on `code` (or `instanceof`), never on `message`.
 * The `Symbol.for` brand makes `isP2pError` work when two copies of the package are loaded.
 *
 * ## Not provided
 * Localised messages. Messages are for people and may change between releases; codes do not.
 *
 * ## Example
 * ```ts
 * try { cipher.seal(frames) } catch (e) { if (isP2pError(e, 'ERR_NONCE_OVERFLOW')) reconnect() }
 * ```
 */

/** The stable identifier of each failure; `P2pError.code` holds one. */
export type ErrorCode =
  | 'ERR_INVALID_CONFIG'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_NATIVE_UNAVAILABLE'
  | 'ERR_NATIVE_VERSION_MISMATCH'
  | 'ERR_COMPRESSION_UNAVAILABLE'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_FRAME_EMPTY'
  | 'ERR_DECRYPT_FAILED'
  | 'ERR_NONCE_OVERFLOW'
  | 'ERR_DECODE'
  | 'ERR_DECOMPRESS'
  | 'ERR_COMPRESS'
  | 'ERR_HANDSHAKE_TIMEOUT'
  | 'ERR_AUTH_FAILED'
  | 'ERR_PROTOCOL'
  | 'ERR_CLOSED'
  | 'ERR_MESSAGE_TOO_LARGE'
  | 'ERR_PEER_REFUSED'

const BRAND = Symbol.for('quorumnet.error')

/** Base class of every error quorumnet throws; branch on `code` (or `instanceof` a subclass). */
export class P2pError extends Error {
  /** @internal brand for isP2pError across package copies */
  readonly [BRAND] = true
  /**
   * Creates an error with the given code; subclasses pass their own code.
   * @param code - The stable code of the failure.
   * @param message - A human-readable description; it may change between releases.
   * @param options - Standard `Error` options, such as `cause`.
   */
  constructor(
    /** The stable code of the failure; unlike `message`, it does not change between releases. */
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** `P2P_NATIVE=1` was set but the Rust addon could not be loaded. */
export class NativeUnavailableError extends P2pError {
  /**
   * Creates the error with a message that names `npm run build:native`.
   * @param options - Standard `Error` options; `cause` is the loader's error.
   */
  constructor(options?: ErrorOptions) {
    super('ERR_NATIVE_UNAVAILABLE', 'P2P_NATIVE=1 but the native addon could not be loaded (run `npm run build:native`)', options)
  }
}

/** A caller passed a value outside what the API accepts (wrong key length, bad level, ...). */
export class InvalidArgumentError extends P2pError {
  /**
   * Creates the error with code `ERR_INVALID_ARGUMENT`.
   * @param message - What was wrong with the argument.
   */
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message)
  }
}

/** A configuration field is outside its bounds. `field` names it. */
export class InvalidConfigError extends P2pError {
  /**
   * Creates the error with code `ERR_INVALID_CONFIG`.
   * @param field - The name of the offending configuration field.
   * @param message - Why its value is refused; the error message is `field: message`.
   */
  constructor(
    /** The name of the configuration field whose value is out of bounds. */
    readonly field: string,
    message: string,
  ) {
    super('ERR_INVALID_CONFIG', `${field}: ${message}`)
  }
}

/** A frame (or message) is larger than the configured limit. */
export class FrameTooLargeError extends P2pError {
  /**
   * Creates the error with code `ERR_FRAME_TOO_LARGE`.
   * @param size - The frame's size in bytes.
   * @param limit - The configured limit in bytes.
   */
  constructor(
    /** The frame's size in bytes. */
    readonly size: number,
    /** The configured limit in bytes. */
    readonly limit: number,
  ) {
    super('ERR_FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the limit of ${limit}`)
  }
}

/** A frame with a zero length prefix was received (the reference treats it as a closed stream). */
export class FrameEmptyError extends P2pError {
  /** Creates the error with code `ERR_FRAME_EMPTY`. */
  constructor() {
    super('ERR_FRAME_EMPTY', 'received a frame of length zero')
  }
}

/** A frame failed authentication (wrong key, tampered, replayed or reordered). */
export class DecryptFailedError extends P2pError {
  /**
   * Creates the error with code `ERR_DECRYPT_FAILED`.
   * @param frameIndex - The 0-based position of the failed frame among all frames received on the connection.
   */
  constructor(
    /** The 0-based position of the failed frame among all frames received on the connection. */
    readonly frameIndex: number,
  ) {
    super('ERR_DECRYPT_FAILED', `frame ${frameIndex} of the chunk failed to decrypt`)
  }
}

/** The nonce counter is exhausted; the connection must be re-established. */
export class NonceOverflowError extends P2pError {
  /** Creates the error with code `ERR_NONCE_OVERFLOW`. */
  constructor() {
    super('ERR_NONCE_OVERFLOW', 'nonce counter exhausted')
  }
}

/** Bytes that do not decode as the expected wire message. */
export class DecodeError extends P2pError {
  /**
   * Creates the error with code `ERR_DECODE`.
   * @param message - What could not be decoded, and why.
   */
  constructor(message: string) {
    super('ERR_DECODE', message)
  }
}

/** zstd data that is not valid or expands beyond the output cap. */
export class DecompressError extends P2pError {
  /**
   * Creates the error with code `ERR_DECOMPRESS`.
   * @param message - Why decompression failed.
   */
  constructor(message: string) {
    super('ERR_DECOMPRESS', message)
  }
}

/** zstd compression failed (for example, an invalid level). */
export class CompressError extends P2pError {
  /**
   * Creates the error with code `ERR_COMPRESS`.
   * @param message - Why compression failed.
   */
  constructor(message: string) {
    super('ERR_COMPRESS', message)
  }
}

/**
 * No zstd could be loaded (neither the addon, zstd-napi nor the WASM build), so a channel with
 * `compression` cannot work here; thrown by `Network.register` (and by a compress call).
 */
export class CompressionUnavailableError extends P2pError {
  /**
   * Creates the error with code `ERR_COMPRESSION_UNAVAILABLE`.
   * @param reason - Why each zstd engine failed to load (`Binding.zstdStatus().detail`).
   * @param channel - The channel being registered, when there is one.
   */
  constructor(
    /** Why each zstd engine failed to load. */
    readonly reason: string,
    /** The channel whose registration was refused, if any. */
    readonly channel?: number,
  ) {
    const what = channel === undefined ? 'zstd compression' : `channel ${channel} asks for zstd compression, which`
    super('ERR_COMPRESSION_UNAVAILABLE', `${what} is not available on this platform (${reason})`)
  }
}

/**
 * The native addon that was found was built for another version of quorumnet than the JavaScript
 * code loading it. The loader then tries the next candidate (or the fallback); with `P2P_NATIVE=1`
 * this is the `cause` of the `NativeUnavailableError`.
 */
export class NativeVersionMismatchError extends P2pError {
  /**
   * Creates the error with code `ERR_NATIVE_VERSION_MISMATCH`.
   * @param path - The addon file.
   * @param addonVersion - The version the addon reports (`unknown` when it reports none).
   * @param packageVersion - The version of the quorumnet package loading it.
   */
  constructor(
    /** The addon file. */
    readonly path: string,
    /** The version the addon reports. */
    readonly addonVersion: string,
    /** The version of the quorumnet package loading it. */
    readonly packageVersion: string,
  ) {
    super('ERR_NATIVE_VERSION_MISMATCH', `native addon ${path} is version ${addonVersion}, but quorumnet is ${packageVersion}`)
  }
}

/** Why a handshake was refused: the reference's stream error names (PROTOCOL.md 2.4, 2.5). */
export type HandshakeReason =
  | 'UnableToDecode'
  | 'InvalidEphemeralPublicKey'
  | 'InvalidChannelPublicKey'
  | 'HandshakeNotForUs'
  | 'InvalidTimestampOld'
  | 'InvalidTimestampFuture'
  | 'MissingSignature'
  | 'InvalidPeerPublicKey'
  | 'InvalidSignature'
  | 'WrongPeer'
  | 'RecvFailed'
  | 'SendFailed'
  | 'CipherCreationFailed'

/** The peer's handshake was refused; `reason` is the reference's name for the check that failed. */
export class HandshakeError extends P2pError {
  /**
   * Creates the error with code `ERR_AUTH_FAILED`.
   * @param reason - The reference's name for the check that failed.
   * @param detail - Optional extra detail, appended to the message.
   * @param options - Standard `Error` options, such as `cause`.
   */
  constructor(
    /** The reference's name for the handshake check that failed. */
    readonly reason: HandshakeReason,
    detail?: string,
    options?: ErrorOptions,
  ) {
    super('ERR_AUTH_FAILED', detail ? `handshake refused (${reason}): ${detail}` : `handshake refused (${reason})`, options)
  }

  /**
   * For `InvalidTimestampOld` and `InvalidTimestampFuture`: how far the peer's clock was from ours,
   * ms, as measured from its handshake timestamp (positive: the peer is ahead). Undefined otherwise.
   */
  skewMs: number | undefined = undefined
}

/**
 * An inbound handshake was well formed, but its key may not connect now: the key is blocked
 * (`blocked`, `Oracle.block`), is in no tracked peer set (`not_in_peer_set`), connects from another IP
 * than the one registered for it in lookup mode (`wrong_ip`), already has a connection
 * (`already_connected`), or reconnects faster than `allowedConnectionRatePerPeer` (`key_rate`).
 * Checked before the signature is verified.
 */
export class PeerRefusedError extends P2pError {
  /**
   * Creates the error with code `ERR_PEER_REFUSED`.
   * @param reason - Which rule refused the key (the `handshakes_refused` reason).
   */
  constructor(
    /** Which rule refused the key: `blocked`, `not_in_peer_set`, `wrong_ip`, `already_connected` or `key_rate`. */
    readonly reason: 'blocked' | 'not_in_peer_set' | 'wrong_ip' | 'already_connected' | 'key_rate',
  ) {
    super('ERR_PEER_REFUSED', `peer refused (${reason})`)
  }
}

/** The handshake did not complete before its deadline. */
export class HandshakeTimeoutError extends P2pError {
  /**
   * Creates the error with code `ERR_HANDSHAKE_TIMEOUT`.
   * @param peer - The remote address of the connection whose handshake timed out.
   * @param ms - The deadline that passed, in ms.
   */
  constructor(
    /** The remote address of the connection whose handshake timed out (`Connection.remote`). */
    readonly peer: string,
    ms: number,
  ) {
    super('ERR_HANDSHAKE_TIMEOUT', `${peer}: no handshake in ${ms}ms`)
  }
}

/** The connection is closed (by either side) or was reset. */
export class ClosedError extends P2pError {
  /**
   * Creates the error with code `ERR_CLOSED`.
   * @param message - Defaults to `connection closed`.
   * @param options - Standard `Error` options, such as `cause`.
   */
  constructor(message = 'connection closed', options?: ErrorOptions) {
    super('ERR_CLOSED', message, options)
  }
}

/** A message (after compression) is larger than the network's `maxMessageSize`; nothing was sent. */
export class MessageTooLargeError extends P2pError {
  /**
   * Creates the error with code `ERR_MESSAGE_TOO_LARGE`.
   * @param size - The message's size in bytes, after compression.
   * @param limit - The network's `maxMessageSize` in bytes.
   */
  constructor(
    /** The message's size in bytes, after compression. */
    readonly size: number,
    /** The network's `maxMessageSize` in bytes. */
    readonly limit: number,
  ) {
    super('ERR_MESSAGE_TOO_LARGE', `message of ${size} bytes exceeds maxMessageSize ${limit}`)
  }
}

/** Why the simulated network refused an oracle call: the reference's error names. */
export type SimulationReason =
  | 'LinkingSelf'
  | 'InvalidSuccessRate'
  | 'InvalidBehavior'
  | 'ChannelAlreadyRegistered'
  | 'PeerMissing'
  | 'LinkMissing'

/** A simulated network oracle call was refused; `reason` is the reference's error name. */
export class SimulationError extends P2pError {
  /**
   * Creates the error with code `ERR_INVALID_ARGUMENT`.
   * @param reason - The reference's name for the refusal.
   * @param detail - What was refused; the message is `reason: detail`.
   */
  constructor(
    /** The reference's error name for the refused oracle call. */
    readonly reason: SimulationReason,
    detail: string,
  ) {
    super('ERR_INVALID_ARGUMENT', `${reason}: ${detail}`)
  }
}

/**
 * Whether `e` is a quorumnet error (from any loaded copy of the package) and, if `code` is given,
 * whether it has that code. Never throws.
 */
export const isP2pError = (e: unknown, code?: ErrorCode): e is P2pError =>
  typeof e === 'object' &&
  e !== null &&
  BRAND in e &&
  (code === undefined || (e as P2pError).code === code)

/**
 * Turning `"ERR_CODE: detail"` errors from either backend into typed `P2pError`s.
 *
 * ## Design
 * The Rust addon can only throw plain `Error`s; by convention their message starts with a stable code.
 * Both backends pass thrown errors through `typedError`, so callers see the same classes either way.
 */
import {
  CompressError,
  DecompressError,
  FrameTooLargeError,
  InvalidArgumentError,
  NonceOverflowError,
  P2pError,
  type ErrorCode,
} from '../errors.js'

const CODED = /^(ERR_[A-Z_]+): ?(.*)$/s

/** Parse `"ERR_X: detail"`; undefined when the message carries no code. */
export function parseCoded(message: string): { code: ErrorCode; detail: string } | undefined {
  const m = CODED.exec(message)
  return m ? { code: m[1] as ErrorCode, detail: m[2] ?? '' } : undefined
}

/** Map a coded error message to its typed error; anything else becomes ERR_INVALID_ARGUMENT. */
export function typedError(err: unknown): P2pError {
  if (err instanceof P2pError) return err
  const message = err instanceof Error ? err.message : String(err)
  const parsed = parseCoded(message)
  if (!parsed) return new InvalidArgumentError(message)
  switch (parsed.code) {
    case 'ERR_NONCE_OVERFLOW':
      return new NonceOverflowError()
    case 'ERR_FRAME_TOO_LARGE': {
      const [size, limit] = parsed.detail.match(/\d+/g) ?? []
      return new FrameTooLargeError(Number(size ?? NaN), Number(limit ?? NaN))
    }
    case 'ERR_COMPRESS':
      return new CompressError(parsed.detail)
    case 'ERR_DECOMPRESS':
      return new DecompressError(parsed.detail)
    case 'ERR_INVALID_ARGUMENT':
      return new InvalidArgumentError(parsed.detail)
    default:
      return new P2pError(parsed.code, parsed.detail, { cause: err })
  }
}

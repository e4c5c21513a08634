/**
 * Command-line argument parsing for the `quorumnet` command: strict flags, one clear line per mistake.
 *
 * ## Design
 * `node:util`'s `parseArgs` in strict mode does the splitting; this module turns its errors, and every
 * value that is not what a flag expects, into a `UsageError` whose message is the whole line the
 * user sees. Numbers are checked against their bounds here, so commands receive valid values only.
 *
 * ## Not provided
 * Abbreviated flags, configuration through environment variables.
 *
 * ## Example
 * ```ts
 * const flags = parseFlags(['--nodes', '4'], { nodes: { type: 'string' } })
 * const nodes = intFlag(flags, 'nodes', 4, 2, 64)
 * ```
 */
import { parseArgs } from 'node:util'

/** A mistake in how the command was called or configured; its message is printed as one line. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>
export type Flags = Record<string, string | boolean | string[] | undefined>

/** Parse `argv` (after the subcommand) against `spec`; unknown flags and positionals are errors. */
export function parseFlags(argv: string[], spec: FlagSpec): Flags {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...spec, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true })
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
    return values as Flags
  } catch (e) {
    if (e instanceof UsageError) throw e
    throw new UsageError(explain(e as Error & { code?: string }))
  }
}

function explain(e: Error & { code?: string }): string {
  const flag = /(--[\w-]+)/.exec(e.message)?.[1] ?? /'(-\w)/.exec(e.message)?.[1]
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag ?? e.message}`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return flag ? `flag ${flag} needs a value` : e.message
    default:
      return e.message.split('\n')[0] ?? 'bad arguments'
  }
}

/** An integer flag in [min, max], or `fallback` when absent. */
export function intFlag(flags: Flags, name: string, fallback: number, min: number, max: number): number {
  const raw = flags[name]
  if (raw === undefined) return fallback
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  return value
}

/** A string flag, or `undefined` when absent. */
export function stringFlag(flags: Flags, name: string): string | undefined {
  const raw = flags[name]
  return typeof raw === 'string' ? raw : undefined
}

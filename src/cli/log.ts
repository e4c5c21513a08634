/**
 * Structured logs for the `quorumnet` command: one JSON object per line on stderr.
 *
 * ## Design
 * Each line has `time` (ISO 8601 from the runtime clock), `level`, `msg` (a stable snake_case event
 * name) and the event's fields, so logs can be grepped by people and parsed by collectors alike.
 * Messages received on the chat channel go to stdout instead: stdout is the conversation, stderr the log.
 *
 * ## Not provided
 * Log files or rotation: redirect stderr.
 *
 * ## Example
 * ```ts
 * const log = new Logger('info', () => ctx.now(), (line) => process.stderr.write(line))
 * log.info('peer_connected', { peer: 'ab12...' })
 * ```
 */
import type { LogLevelName } from './nodeconfig.js'

const RANK: Record<LogLevelName, number> = { debug: 0, info: 1, warn: 2, error: 3 }

export class Logger {
  constructor(
    private readonly level: LogLevelName,
    private readonly now: () => number,
    private readonly write: (line: string) => void,
  ) {}

  log(level: LogLevelName, msg: string, fields: Record<string, unknown> = {}): void {
    if (RANK[level] < RANK[this.level]) return
    const line = { time: new Date(this.now()).toISOString(), level, msg, ...fields }
    this.write(JSON.stringify(line, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n')
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log('debug', msg, fields)
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log('info', msg, fields)
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log('warn', msg, fields)
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log('error', msg, fields)
  }
}

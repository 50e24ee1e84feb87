/**
 * The process's structured log (pino): one JSON object per line, `level` as a name, `time` in ISO
 * 8601, an `event` naming what happened, and `msg`. Lines below `error` go to stdout, `error` and
 * `fatal` to stderr, as the CLI always did. On a terminal the lines are pretty-printed instead
 * (pino-pretty), for a human; anything else (a pipe, a file, a log shipper) gets JSON.
 *
 * What is never logged: record keys, values and headers, and request bodies. Request lines carry the
 * method, route template, URL, status and duration only.
 */
import pino, { type DestinationStream, type Logger, type StreamEntry } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level: LogLevel;
  /** Human-readable lines instead of JSON; by default only when stdout is a terminal. */
  pretty?: boolean;
}

export function createLogger({ level, pretty: human = process.stdout.isTTY === true }: LoggerOptions): Logger {
  // Synchronous writes: a lifecycle line written just before process.exit() must not be lost, and
  // Node writes to pipes and files synchronously anyway.
  const out = (fd: 1 | 2): DestinationStream =>
    human
      ? pretty({ destination: fd, sync: true, colorize: fd === 1 ? process.stdout.isTTY : process.stderr.isTTY })
      : pino.destination({ dest: fd, sync: true });
  const streams: StreamEntry[] = [
    { level: 'trace', stream: out(1) },
    { level: 'error', stream: out(2) },
  ];
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      // pino-pretty reads numeric levels; JSON readers (and people grepping) prefer the name.
      formatters: human ? {} : { level: (label) => ({ level: label }) },
    },
    // dedupe: each line goes only to the stream with the highest level at or below its own.
    pino.multistream(streams, { dedupe: true }),
  );
}

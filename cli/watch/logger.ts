import { type Logger, pino } from 'pino';
import { UsageError } from '../../core/errors.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Structured JSON logs, one object per line, to the given stream (stderr: stdout stays for data).
 * Logs carry ids, counts and locators; never record bodies, request bodies or URLs.
 */
export function createLogger(level: string | undefined, stream: NodeJS.WritableStream): Logger {
  const l = (level ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(l))
    throw new UsageError(`--log-level: "${level}" is not one of ${LOG_LEVELS.join(', ')}`);
  return pino(
    {
      level: l,
      base: { name: 'vigil' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream as unknown as pino.DestinationStream,
  );
}

export type { Logger };

import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { delivered, permanent, retryable, type SinkType } from './sink.js';

const Config = z.strictObject({
  /** File to append one alert JSON per line to; `-` is stdout. */
  path: z.string().min(1),
});

/** One alert JSON object per line, appended to a file (or stdout): for SIEMs, jq and tests. */
export const ndjsonSink: SinkType<z.infer<typeof Config>> = {
  type: 'ndjson',
  description: 'one alert JSON per line, appended to a file or stdout',
  config: Config,
  create(name, config, deps) {
    return {
      name,
      type: 'ndjson',
      render: (n) => n.alerts.map((a) => `${JSON.stringify(a)}\n`).join(''),
      async deliver(payload: string) {
        if (config.path === '-') {
          deps.stdout.write(payload);
          return delivered;
        }
        try {
          await mkdir(dirname(config.path), { recursive: true });
          await appendFile(config.path, payload, { mode: 0o600 });
          return delivered;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? 'error';
          // A full disk may clear; a path that is a directory or not writable will not.
          return code === 'ENOSPC' || code === 'EMFILE' || code === 'EAGAIN'
            ? retryable(`cannot write ${config.path}: ${code}`)
            : permanent(`cannot write ${config.path}: ${code}`);
        }
      },
    };
  },
};

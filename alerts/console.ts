import { z } from 'zod';
import { alertLines } from './format.js';
import { delivered, type SinkType } from './sink.js';

const Config = z.strictObject({});

/** Alerts for a person at a terminal, on stdout. */
export const consoleSink: SinkType<z.infer<typeof Config>> = {
  type: 'console',
  description: 'human-readable alerts on stdout',
  config: Config,
  create(name, _config, deps) {
    return {
      name,
      type: 'console',
      render: (alert) => `${alertLines(alert).join('\n')}\n\n`,
      async deliver(payload: string) {
        deps.stdout.write(payload);
        return delivered;
      },
    };
  },
};

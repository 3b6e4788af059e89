import { z } from 'zod';
import { alertLines } from './format.js';
import type { Notification } from './notification.js';
import { delivered, type SinkType } from './sink.js';

const Config = z.strictObject({});

export function consoleText(n: Notification): string {
  const head =
    n.alerts.length > 1
      ? [
          `${n.kind === 'digest' ? 'Digest' : 'Group'}: ${n.alerts.length} alerts, ${n.events} events, ${n.firstTime} .. ${n.lastTime}`,
        ]
      : [];
  return `${[...head, ...n.alerts.map((a) => alertLines(a).join('\n'))].join('\n')}\n\n`;
}

/** Alerts for a person at a terminal, on stdout. */
export const consoleSink: SinkType<z.infer<typeof Config>> = {
  type: 'console',
  description: 'human-readable alerts on stdout',
  config: Config,
  create(name, _config, deps) {
    return {
      name,
      type: 'console',
      render: consoleText,
      async deliver(payload: string) {
        deps.stdout.write(payload);
        return delivered;
      },
    };
  },
};

import { sendTest } from '../../alerts/dispatch.js';
import { UsageError } from '../../core/errors.js';
import type { Command } from '../command.js';
import { alerting, CONFIG_HELP, loadRootConfig } from '../common.js';

export const alertsTestCommand: Command = {
  name: 'alerts test',
  summary: 'send a test notification to one sink and report the result',
  usage: 'vigil alerts test SINK [--config FILE]',
  description:
    'Sends a clearly marked test alert to the sink named SINK in the config (or `slack` / `sns` from\n' +
    'VIGIL_SLACK_WEBHOOK_URL / VIGIL_SNS_TOPIC_ARN). Exit code 0 when the sink accepted it, 1 when not.',
  positionals: true,
  options: { config: { type: 'string' } },
  help: [CONFIG_HELP],
  async run(args, io) {
    const name = args.positionals[0];
    const { config } = loadRootConfig(args, io);
    const { sinks } = alerting(config, io);
    if (!name || args.positionals.length > 1) {
      throw new UsageError(
        `alerts test: name one sink (configured: ${[...sinks.keys()].join(', ') || 'none'})`,
      );
    }
    const sink = sinks.get(name);
    if (!sink)
      throw new UsageError(
        `alerts test: no sink named "${name}" (configured: ${[...sinks.keys()].join(', ') || 'none'})`,
      );
    const result = await sendTest(sink, io.clock, io.signal);
    if (result.ok) {
      io.stderr.write(`vigil alerts test: ${name} (${sink.type}) accepted the test notification\n`);
      return 0;
    }
    io.stderr.write(
      `vigil alerts test: ${name} (${sink.type}) failed: ${result.reason}${result.retryable ? ' (retryable)' : ''}\n`,
    );
    return 1;
  },
};

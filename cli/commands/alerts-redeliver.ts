import { dispatchDue } from '../../alerts/dispatch.js';
import { openDeliveries } from '../../store/deliveries.js';
import { type Command, str } from '../command.js';
import { alerting, CONFIG_HELP, DB_HELP, dbPath, loadRootConfig, openStore } from '../common.js';

export const alertsRedeliverCommand: Command = {
  name: 'alerts redeliver',
  summary: 'retry dead-lettered deliveries (all, one sink, or one alert)',
  usage: 'vigil alerts redeliver [--db FILE] [--config FILE] [--sink S] [--alert ID]',
  description: 'Puts failed deliveries back in the queue and delivers them now to the configured sinks.',
  options: {
    db: { type: 'string' },
    config: { type: 'string' },
    sink: { type: 'string' },
    alert: { type: 'string' },
  },
  help: [
    DB_HELP,
    CONFIG_HELP,
    { flag: '--sink S', text: 'only deliveries to this sink' },
    { flag: '--alert ID', text: 'only this alert' },
  ],
  async run(args, io) {
    const { config } = loadRootConfig(args, io);
    const alerts = alerting(config, io);
    const store = openStore(dbPath(args, io, config));
    try {
      const ledger = openDeliveries(store);
      const sink = str(args, 'sink');
      const alertId = str(args, 'alert');
      const count = ledger.redeliver(
        { ...(sink ? { sink } : {}), ...(alertId ? { alertId } : {}) },
        io.clock.now(),
      );
      io.stderr.write(`vigil alerts redeliver: ${count} deliveries queued again\n`);
      if (count === 0) return 0;
      const report = await dispatchDue(ledger, alerts.sinks, {
        clock: io.clock,
        routing: alerts.routing,
        signal: io.signal,
      });
      const line = (m: Record<string, number> | undefined) =>
        Object.entries(m ?? {})
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none';
      io.stderr.write(
        `vigil alerts redeliver: delivered ${line(report.delivered)}; failed again ${line(report.dead)}; will retry ${line(report.failed)}\n`,
      );
      return Object.keys(report.dead).length > 0 ? 1 : 0;
    } finally {
      store.close();
    }
  },
};

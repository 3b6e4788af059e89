import { rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { consoleSink } from '../../alerts/console.js';
import { generateDemo } from '../../demo/generate.js';
import { type Command, str } from '../command.js';
import {
  alerting,
  CONFIG_HELP,
  detectionSetup,
  loadRootConfig,
  openStore,
  routeWith,
  summaryLines,
} from '../common.js';
import { runIngest } from '../pipeline.js';

/**
 * `npm start`: with a config file that names sources, follow them (`vigil watch`); without one, run the
 * whole pipeline over bundled demo data into a local store and show what vigil found.
 */
export const runCommand: Command = {
  name: 'run',
  summary: 'the main job: watch the configured sources, or run the demo when none are configured',
  usage: 'vigil run [--config FILE] [--demo-dir DIR]',
  description:
    'With a config file that lists sources (vigil.config.yaml, --config or $VIGIL_CONFIG), this is\n' +
    '`vigil watch`. Without one it generates two weeks of demo audit logs (CloudTrail and Key Vault, no AWS\n' +
    'account or network needed), ingests them into a fresh local store and prints the alerts vigil raises.',
  options: { config: { type: 'string' }, 'demo-dir': { type: 'string' } },
  help: [
    CONFIG_HELP,
    { flag: '--demo-dir DIR', text: 'where the demo writes its logs and store (default .vigil/demo)' },
  ],
  async run(args, io) {
    const { config, file } = loadRootConfig(args, io);
    if (config.sources.length > 0) {
      const { COMMANDS } = await import('./index.js');
      const watch = COMMANDS.find((c) => c.name === 'watch');
      if (watch) return watch.run({ values: { config: file }, positionals: [] }, io);
      io.stderr.write(`vigil run: ${file} lists sources, but this build has no \`watch\` command\n`);
      return 2;
    }
    const dir = resolve(io.cwd, str(args, 'demo-dir') ?? '.vigil/demo');
    const logs = join(dir, 'logs');
    const db = join(dir, 'demo.db');
    rmSync(dir, { recursive: true, force: true });
    io.stderr.write('vigil: no config file with sources found, so this is the demo.\n');
    const demo = generateDemo(logs);
    io.stderr.write(
      `vigil: wrote ${demo.files} demo log files (${demo.records} records: two weeks of CloudTrail and Key Vault)\n\n`,
    );
    const alerts = alerting(config, io);
    const sinks = alerts.sinks;
    sinks.set(
      'console',
      consoleSink.create('console', {}, { clock: io.clock, stdout: io.stdout, env: io.env }),
    );
    const store = openStore(db);
    try {
      const summary = await runIngest([logs], {
        store,
        ...detectionSetup(config, db),
        sinks,
        route: routeWith(alerts),
        routing: alerts.routing,
        clock: io.clock,
        signal: io.signal,
      });
      for (const line of summaryLines(summary, db)) io.stderr.write(`vigil: ${line}\n`);
      const rel = relative(io.cwd, db) || db;
      io.stderr.write(
        [
          '',
          'Try next:',
          `  npx vigil query --db ${rel} --secret prod/billing/stripe --since 2026-11-01   # who read this secret`,
          `  npx vigil query --db ${rel} --principal orders-api --format csv             # what this role read`,
          `  npx vigil query --db ${rel} --denied                                        # denied calls`,
          `  npx vigil ingest path/to/AWSLogs --db vigil.db                               # your own CloudTrail files`,
          '  npx vigil --help',
          '',
        ].join('\n'),
      );
      return 0;
    } finally {
      store.close();
    }
  },
};

import type { Command } from '../command.js';
import { alertsCommand } from './alerts.js';
import { alertsRedeliverCommand } from './alerts-redeliver.js';
import { alertsTestCommand } from './alerts-test.js';
import { backfillCommand } from './backfill.js';
import { ingestCommand } from './ingest.js';
import { normalizeCommand } from './normalize.js';
import { quarantineCommand } from './quarantine.js';
import { queryCommand } from './query.js';
import { runCommand } from './run.js';
import { simulateCommand } from './simulate.js';
import { suppressCommand } from './suppress.js';
import { watchCommand } from './watch.js';

/** Every command. Add a command here with one line. */
export const COMMANDS: readonly Command[] = [
  runCommand,
  normalizeCommand,
  ingestCommand,
  queryCommand,
  alertsCommand,
  alertsRedeliverCommand,
  alertsTestCommand,
  quarantineCommand,
  watchCommand,
  backfillCommand,
  simulateCommand,
  suppressCommand,
];

/**
 * Child process for the kill -9 test: opens a store on a file, optionally writes alerts and their
 * deliveries (one transaction), then dispatches to a webhook with the real clock until done.
 * Usage: crash-driver.ts DB HOOK_URL enqueue|resume COUNT
 */
import { AlertsConfig } from '../../alerts/config.js';
import { dispatchDue } from '../../alerts/dispatch.js';
import { createSinks } from '../../alerts/setup.js';
import { systemClock } from '../../core/clock.js';
import { openDeliveries } from '../../store/deliveries.js';
import { Store } from '../../store/store.js';
import { makeAlert, saveAlerts } from './helpers.js';

const [db, url, phase, count] = process.argv.slice(2);
const store = Store.open(db!);
if (phase === 'enqueue') {
  const alerts = Array.from({ length: Number(count) }, (_, i) => makeAlert(i));
  saveAlerts(store, alerts, ['hook'], systemClock.now());
}
const sinks = createSinks(AlertsConfig.parse({ sinks: { hook: { type: 'webhook', url: 'env:HOOK_URL' } } }), {
  clock: systemClock,
  stdout: process.stdout,
  env: { HOOK_URL: url },
});
process.stdout.write('dispatching\n');
const report = await dispatchDue(openDeliveries(store), sinks, { clock: systemClock });
process.stdout.write(`${JSON.stringify(report)}\n`);
store.close();

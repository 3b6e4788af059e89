import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { simulate } from '../demo/simulate.js';
import { evaluate, formatReport } from './eval.js';

/**
 * `npm run eval [-- --seed N --days D]`: simulates an organisation with labelled attacks, ingests it with
 * vigil's runner and prints recall and precision per attack kind and false alerts per day.
 */
const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    days: { type: 'string', default: '30' },
    dir: { type: 'string' },
  },
});
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'vigil-sim-'));
try {
  if (!values.dir) simulate({ days: Number(values.days), seed: Number(values.seed), outDir: dir });
  const started = performance.now();
  const report = await evaluate({ dir });
  console.log(formatReport(report));
  console.log(`\n(evaluated in ${((performance.now() - started) / 1000).toFixed(0)} s)`);
} finally {
  if (!values.dir) rmSync(dir, { recursive: true, force: true });
}

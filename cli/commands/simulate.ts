import { resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { simulate } from '../../demo/simulate.js';
import { bool, type Command, str } from '../command.js';

function whole(text: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`simulate: ${flag} must be a whole number from ${min} to ${max}`);
  return n;
}

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'write realistic simulated audit logs with labelled attacks (for tuning and evaluation)',
  usage: 'vigil simulate --out DIR [--days 30] [--seed N] [--benign]',
  description:
    'Writes an organisation of about 50 principals in the real raw formats: CloudTrail S3 layout\n' +
    '(AWSLogs/…/*.json.gz) and Key Vault PT1H.json blobs, with Lambda and ECS roles, people through IAM Identity\n' +
    'Center, CI bursts, rotations and service-made KMS decrypts, plus injected attacks listed in DIR/labels.json.\n' +
    'Then: vigil ingest DIR, or npm run eval.',
  options: {
    out: { type: 'string' },
    days: { type: 'string' },
    seed: { type: 'string' },
    benign: { type: 'boolean' },
  },
  help: [
    { flag: '--out DIR', text: 'where to write the logs and labels.json' },
    { flag: '--days N', text: 'days of traffic (default 30)' },
    { flag: '--seed N', text: 'random seed: the same seed writes the same bytes (default 1)' },
    { flag: '--benign', text: 'no attacks: a corpus on which every detector should stay quiet' },
  ],
  async run(args, io) {
    const out = str(args, 'out');
    if (!out) throw new UsageError('simulate: --out DIR is required');
    const days = whole(str(args, 'days'), '--days', 30, 1, 366);
    const seed = whole(str(args, 'seed'), '--seed', 1, 0, 2 ** 31 - 1);
    const result = simulate({ days, seed, outDir: resolve(io.cwd, out), attacks: !bool(args, 'benign') });
    io.stderr.write(`vigil simulate: ${JSON.stringify(result)}\n`);
    return 0;
  },
};

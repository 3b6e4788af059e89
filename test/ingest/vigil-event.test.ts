import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers.js';
import { fixture, run } from './helpers.js';

/** Raw logs of every provider, and what vigil makes of them. */
const RAW = [
  fixture('cloudtrail', 'kms-decrypt-via-secretsmanager.json'),
  fixture('cloudtrail', 'batch-get-secret-value.json'),
  fixture('keyvault', 'PT1H.json'),
  fixture('vault-audit', 'audit.log'),
  fixture('gcp-audit', 'log-analytics.ndjson'),
];

describe('vigil-event: vigil normalize output read back', () => {
  it('gives back the same events, ids included; a damaged event is quarantined naming its field', async () => {
    const original = await run(RAW);
    expect(new Set(original.events.map((e) => e.provider))).toEqual(
      new Set(['aws', 'azure', 'vault', 'gcp']),
    );
    const dir = tempDir();
    const file = join(dir, 'events.ndjson');
    const [first, ...rest] = original.events;
    // A hand-edited event: its time in seconds, and one without its principal's id.
    const edited = { ...first!, time: first!.time.replace(/\.\d{3}Z$/, 'Z') };
    const damaged = { ...first!, id: 'x', principal: { ...first!.principal, id: undefined } };
    writeFileSync(file, [edited, ...rest, damaged].map((e) => JSON.stringify(e)).join('\n'));
    const back = await run(file);
    expect(back.events).toEqual([{ ...first!, time: first!.time.replace(/\.\d{3}Z$/, '.000Z') }, ...rest]);
    expect(back.quarantine.map((q) => [q.position, q.reason])).toEqual([
      [`line ${original.events.length + 1}`, expect.stringMatching(/^vigil-event: principal\.id: /)],
    ]);
  });

  it('vigil normalize | vigil ingest -: stored once, and the raw logs after it add nothing', async () => {
    const db = join(tempDir(), 'vigil.db');
    const normalized = await runCli(['normalize', ...RAW]);
    expect(normalized.code).toBe(0);
    const lines = normalized.stdout.trim().split('\n').length;
    const piped = await runCli(['ingest', '-', '--db', db, '--quiet'], { input: normalized.stdout });
    expect(piped.code).toBe(0);
    expect(piped.stderr).toMatch(new RegExp(`stored ${lines} new events \\(0 already stored\\)`));
    const raw = await runCli(['ingest', ...RAW, '--db', db, '--quiet']);
    expect(raw.stderr).toMatch(new RegExp(`stored 0 new events \\(${lines} already stored\\)`));
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloudTrailRecord } from '../../demo/records.js';
import { runCli, tempDir } from '../helpers.js';

const deletion = (seed: string, time: number) =>
  cloudTrailRecord({
    time,
    actor: { kind: 'user', account: '111122223333', user: 'mallory' },
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'DeleteSecret',
    requestParameters: { secretId: `test/${seed}`, forceDeleteWithoutRecovery: true },
    sourceIPAddress: '198.51.100.9',
    userAgent: 'aws-cli/2.15.0',
    readOnly: false,
    seed,
  });

describe('vigil suppress', () => {
  it('adds a rule to the config (keeping its comments); matching alerts are stored and counted, not sent, until expiry', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'vigil.config.yaml'), '# team config\nstore:\n  path: v.db # local\n');
    const add = await runCli(
      [
        'suppress',
        '--detector',
        'sensitive-operation',
        '--principal',
        'mallory',
        '--reason',
        'test cleanup',
        '--expires',
        '2026-11-03',
      ],
      { cwd: dir },
    );
    expect(add.code, add.stderr).toBe(0);
    const text = readFileSync(join(dir, 'vigil.config.yaml'), 'utf8');
    expect(text).toContain('# team config');
    expect(text).toContain('reason: test cleanup');

    // One deletion before the expiry (suppressed), one after it (alerts).
    const before = deletion('a', Date.UTC(2026, 10, 2, 9));
    const after = deletion('b', Date.UTC(2026, 10, 5, 9));
    writeFileSync(join(dir, 'trail.json'), JSON.stringify({ Records: [before, after] }));
    const r = await runCli(['ingest', 'trail.json', '--alerts-out', 'alerts.ndjson', '-q'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/alerts: 1 new \(high 1\), 1 suppressed/);
    const sent = readFileSync(join(dir, 'alerts.ndjson'), 'utf8').trim().split('\n');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toContain('test/b');

    const list = await runCli(['suppress', '--list'], { cwd: dir });
    expect(list.stdout).toMatch(/test cleanup \(until 2026-11-03\).*suppressed alerts: 1/);
    const stored = await runCli(['alerts', '--json'], { cwd: dir });
    expect(stored.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('refuses a rule without reason or expiry, naming the flag', async () => {
    const dir = tempDir();
    const r = await runCli(['suppress', '--detector', 'new-access', '--expires', '2027-01-01'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('vigil suppress: --reason: required');
  });
});

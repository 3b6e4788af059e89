import { describe, expect, it } from 'vitest';
import type { SecretAccessEvent, Severity } from '../../core/event.js';
import { ACCT, CLI_UA, DAY, ev, HOUR, habit, person, role, run, secret, T0 } from './events.js';

/** Table-driven cases: a history that builds baselines, then trigger events; fires or stays quiet. */
interface Case {
  name: string;
  detector: string;
  history: SecretAccessEvent[];
  trigger: SecretAccessEvent[];
  fires: boolean;
  severity?: Severity;
  config?: Record<string, unknown>;
}

const api = role('orders-api');
const worker = role('billing-worker');
const ci = role('github-deploy');
const alice = person('alice@example.com');
const db = secret('prod/orders/db');
const key = secret('prod/payments/stripe-key');
const many = Array.from({ length: 40 }, (_, i) => secret(`prod/svc-${i}/token`));

const apiHabit = habit(api, { days: 14, hours: [...Array(24).keys()], perHour: 2, secrets: [db] });
const workerHabit = habit(worker, { days: 14, hours: [...Array(24).keys()], perHour: 1, secrets: [key] });
const aliceHabit = habit(alice, {
  days: 14,
  hours: [9, 10, 11, 13, 14, 15, 16],
  perHour: 3,
  secrets: [db, key],
  weekdaysOnly: true,
  ip: '73.162.1.1',
  ua: CLI_UA,
});
const day14 = T0 + 14 * DAY;
// CI reads 15 secrets in a deploy burst every weekday at 10:00.
const ciHabit: SecretAccessEvent[] = [];
for (let d = 0; d < 14; d++) {
  if ([0, 6].includes(new Date(T0 + d * DAY).getUTCDay())) continue;
  for (let i = 0; i < 15; i++)
    ciHabit.push(
      ev({
        time: T0 + d * DAY + 10 * HOUR + i * 5000,
        principal: ci,
        resource: many[i]!,
        ip: '20.190.128.1',
        ua: CLI_UA,
      }),
    );
}

function burst(p = api, n = 20, start = day14 + 10 * HOUR, ip?: string, ua?: string) {
  return Array.from({ length: n }, (_, i) =>
    ev({
      time: start + i * 10_000,
      principal: p,
      resource: many[i]!,
      ...(ip ? { ip } : {}),
      ...(ua ? { ua } : {}),
    }),
  );
}

const policy = (principal: unknown, condition?: unknown) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: principal,
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  });

const cases: Case[] = [
  // new-principal
  {
    name: 'unknown role reads after warm-up',
    detector: 'new-principal',
    history: apiHabit,
    trigger: [ev({ time: day14 + HOUR, principal: role('intruder'), resource: db })],
    fires: true,
    severity: 'high',
  },
  {
    name: 'unknown person reads after warm-up: medium',
    detector: 'new-principal',
    history: apiHabit,
    trigger: [ev({ time: day14 + HOUR, principal: person('bob@example.com'), resource: db, ua: CLI_UA })],
    fires: true,
    severity: 'medium',
  },
  {
    name: 'new role during warm-up is learned',
    detector: 'new-principal',
    history: apiHabit.slice(0, 50),
    trigger: [ev({ time: T0 + DAY + 1, principal: role('intruder') })],
    fires: false,
  },
  {
    name: 'known role',
    detector: 'new-principal',
    history: apiHabit,
    trigger: [ev({ time: day14 + HOUR, principal: api })],
    fires: false,
  },
  // new-access
  {
    name: 'workload reads a secret outside its set',
    detector: 'new-access',
    history: [...apiHabit, ...workerHabit],
    trigger: [ev({ time: day14 + HOUR, principal: api, resource: key })],
    fires: true,
    severity: 'high',
  },
  {
    // No sign the secret is new (no create, write or rotation seen): a rarely read secret, such as
    // break-glass credentials, read for the first time in the history is news, not an expected first read.
    name: 'person is the first reader of a secret never read in the history: medium',
    detector: 'new-access',
    history: [...aliceHabit, ...workerHabit],
    trigger: [
      ev({ time: day14 + 10 * HOUR, principal: alice, resource: many[3]!, ua: CLI_UA, ip: '73.162.1.1' }),
    ],
    fires: true,
    severity: 'medium',
  },
  {
    name: 'known pair',
    detector: 'new-access',
    history: apiHabit,
    trigger: [ev({ time: day14 + HOUR, principal: api, resource: db })],
    fires: false,
  },
  {
    name: 'new principal is not doubled',
    detector: 'new-access',
    history: apiHabit,
    trigger: [ev({ time: day14 + HOUR, principal: role('intruder'), resource: db })],
    fires: false,
  },
  {
    name: 'first reader of a secret just rotated: low',
    detector: 'new-access',
    history: [
      ...apiHabit,
      ...workerHabit,
      ev({ time: day14, principal: ci, resource: key, operation: 'PutSecretValue', action: 'write' }),
    ],
    trigger: [ev({ time: day14 + HOUR, principal: api, resource: key })],
    fires: true,
    severity: 'low',
  },
  // unusual-time
  {
    name: 'office-hours person at 03:00',
    detector: 'unusual-time',
    history: aliceHabit,
    trigger: [
      ev({ time: day14 + DAY + 3 * HOUR, principal: alice, resource: db, ip: '73.162.1.1', ua: CLI_UA }),
    ],
    fires: true,
    severity: 'medium',
  },
  {
    name: 'office-hours person at 17:30 (next to 16:00)',
    detector: 'unusual-time',
    history: aliceHabit,
    trigger: [
      ev({ time: day14 + DAY + 17.5 * HOUR, principal: alice, resource: db, ip: '73.162.1.1', ua: CLI_UA }),
    ],
    fires: false,
  },
  {
    name: 'office-hours person on Saturday morning',
    detector: 'unusual-time',
    history: aliceHabit,
    trigger: [ev({ time: T0 + 19 * DAY + 10 * HOUR, principal: alice, resource: db })],
    fires: false,
  },
  {
    name: 'round-the-clock workload at 03:00',
    detector: 'unusual-time',
    history: apiHabit,
    trigger: [ev({ time: day14 + 3 * HOUR + 1, principal: api, resource: db })],
    fires: false,
  },
  {
    name: 'too little history',
    detector: 'unusual-time',
    history: aliceHabit.slice(0, 30),
    trigger: [ev({ time: day14 + 3 * HOUR, principal: alice, resource: db })],
    fires: false,
  },
  // volume-spike
  {
    name: '60 reads in an hour, usually 2',
    detector: 'volume-spike',
    history: apiHabit,
    trigger: Array.from({ length: 60 }, (_, i) =>
      ev({ time: day14 + 5 * HOUR + i * 50_000, principal: api, resource: db }),
    ),
    fires: true,
    severity: 'high',
  },
  {
    name: '8 reads: under the absolute floor',
    detector: 'volume-spike',
    history: apiHabit,
    trigger: Array.from({ length: 6 }, (_, i) =>
      ev({ time: day14 + 5 * HOUR + i * 50_000, principal: api, resource: db }),
    ),
    fires: false,
  },
  {
    name: 'spike during learning',
    detector: 'volume-spike',
    history: apiHabit.slice(0, 48),
    trigger: Array.from({ length: 60 }, (_, i) =>
      ev({ time: T0 + 2 * DAY + i * 50_000, principal: api, resource: db }),
    ),
    fires: false,
  },
  // mass-retrieval
  {
    name: '20 distinct secrets in 3 min, no history',
    detector: 'mass-retrieval',
    history: [],
    trigger: burst(role('fresh-role'), 20, T0),
    fires: true,
    severity: 'high',
  },
  {
    name: '15 distinct secrets, no history',
    detector: 'mass-retrieval',
    history: [],
    trigger: burst(role('fresh-role'), 15, T0),
    fires: false,
  },
  {
    name: 'person usually reads 2, now 10',
    detector: 'mass-retrieval',
    history: aliceHabit,
    trigger: burst(alice, 10, day14 + 10 * HOUR, '73.162.1.1', CLI_UA),
    fires: true,
    severity: 'medium',
  },
  {
    name: 'CI usually reads 15 in a deploy, now 25',
    detector: 'mass-retrieval',
    history: ciHabit,
    trigger: burst(ci, 25, day14 + 10 * HOUR, '20.190.128.1', CLI_UA),
    fires: false,
  },
  {
    name: 'ListSecrets then 14 reads',
    detector: 'mass-retrieval',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: role('fresh-role'),
        resource: null,
        operation: 'ListSecrets',
        action: 'list',
      }),
      ...burst(role('fresh-role'), 14, T0 + 60_000),
    ],
    fires: true,
    severity: 'critical',
  },
  // denied-burst
  {
    name: '12 denied across 4 secrets, first events ever',
    detector: 'denied-burst',
    history: [],
    trigger: Array.from({ length: 12 }, (_, i) =>
      ev({ time: T0 + i * 60_000, principal: role('probe'), resource: many[i % 4]!, outcome: 'denied' }),
    ),
    fires: true,
    severity: 'high',
  },
  {
    name: '50 denied on one secret (a broken policy)',
    detector: 'denied-burst',
    history: [],
    trigger: Array.from({ length: 50 }, (_, i) =>
      ev({ time: T0 + i * 60_000, principal: api, resource: db, outcome: 'denied' }),
    ),
    fires: false,
  },
  {
    name: '9 denied across 5 secrets',
    detector: 'denied-burst',
    history: [],
    trigger: Array.from({ length: 9 }, (_, i) =>
      ev({ time: T0 + i * 60_000, principal: api, resource: many[i % 5]!, outcome: 'denied' }),
    ),
    fires: false,
  },
  {
    name: 'not-found guesses count as probing',
    detector: 'denied-burst',
    history: [],
    trigger: Array.from({ length: 10 }, (_, i) =>
      ev({
        time: T0 + i * 60_000,
        principal: api,
        resource: many[i]!,
        outcome: 'error',
        errorCode: 'ResourceNotFoundException',
      }),
    ),
    fires: true,
  },
  // unusual-source
  {
    name: 'Lambda role used with the CLI from the Netherlands',
    detector: 'unusual-source',
    history: apiHabit,
    trigger: [ev({ time: day14 + HOUR, principal: api, resource: db, ip: '193.0.6.139', ua: CLI_UA })],
    fires: true,
    severity: 'critical',
  },
  {
    name: 'Lambda role used with the CLI from a US home network',
    detector: 'unusual-source',
    history: apiHabit,
    trigger: [ev({ time: day14 + HOUR, principal: api, resource: db, ip: '73.162.1.1', ua: CLI_UA })],
    fires: true,
    severity: 'critical',
  },
  {
    name: 'Lambda cold start on a new AWS address',
    detector: 'unusual-source',
    history: apiHabit,
    trigger: [ev({ time: day14 + HOUR, principal: api, resource: db, ip: '3.80.1.1' })],
    fires: false,
  },
  {
    name: 'ECS task role behind a VPC endpoint used from the internet',
    detector: 'unusual-source',
    history: habit(worker, {
      days: 10,
      hours: [1, 5, 9, 13, 17, 21],
      perHour: 2,
      secrets: [key],
      ip: '10.0.3.7',
    }).map((e) => ({ ...e, source: { ...e.source, vpcEndpointId: 'vpce-0a1b2c3d' } })),
    trigger: [
      ev({
        time: T0 + 11 * DAY,
        principal: worker,
        resource: key,
        ip: '104.28.1.1',
        ua: 'Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux',
      }),
    ],
    fires: true,
    severity: 'critical',
  },
  {
    name: 'person from a new network in the same country',
    detector: 'unusual-source',
    history: aliceHabit,
    trigger: [ev({ time: day14 + 10 * HOUR, principal: alice, resource: db, ip: '104.28.1.1', ua: CLI_UA })],
    fires: false,
  },
  {
    name: 'person from a new country',
    detector: 'unusual-source',
    history: aliceHabit,
    trigger: [ev({ time: day14 + 10 * HOUR, principal: alice, resource: db, ip: '81.2.69.142', ua: CLI_UA })],
    fires: true,
    severity: 'high',
  },
  {
    name: 'service-made call is inside',
    detector: 'unusual-source',
    history: apiHabit,
    trigger: [
      ev({
        time: day14 + HOUR,
        principal: api,
        resource: db,
        ip: 'secretsmanager.amazonaws.com',
        viaService: 'secretsmanager.amazonaws.com',
        service: 'kms',
        operation: 'Decrypt',
        action: 'decrypt',
      }),
    ],
    fires: false,
  },
  // sensitive-operation
  {
    name: 'force delete',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: alice,
        operation: 'DeleteSecret',
        action: 'delete',
        details: { forceDeleteWithoutRecovery: true },
      }),
    ],
    fires: true,
    severity: 'high',
  },
  {
    name: 'delete with a recovery window',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: alice,
        operation: 'DeleteSecret',
        action: 'delete',
        details: { recoveryWindowInDays: 7 },
      }),
    ],
    fires: false,
  },
  {
    name: 'denied force delete is not a change',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: alice,
        operation: 'DeleteSecret',
        action: 'delete',
        outcome: 'denied',
        details: { forceDeleteWithoutRecovery: true },
      }),
    ],
    fires: false,
  },
  {
    name: 'policy granting *',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: alice,
        operation: 'PutResourcePolicy',
        action: 'policy',
        details: { resourcePolicy: policy('*') },
      }),
    ],
    fires: true,
    severity: 'critical',
  },
  {
    name: 'policy granting an external account',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: alice,
        operation: 'PutResourcePolicy',
        action: 'policy',
        details: { resourcePolicy: policy({ AWS: 'arn:aws:iam::999988887777:root' }) },
      }),
    ],
    fires: true,
    severity: 'high',
  },
  {
    name: 'policy granting its own account',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: alice,
        operation: 'PutResourcePolicy',
        action: 'policy',
        details: { resourcePolicy: policy({ AWS: `arn:aws:iam::${ACCT}:role/orders-api` }) },
      }),
    ],
    fires: false,
  },
  {
    name: 'GCP IAM policy granting allUsers',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: alice,
        provider: 'gcp',
        operation: 'SetIamPolicy',
        action: 'policy',
        details: { members: 'allUsers,serviceAccount:orders-api@acme-prod.iam.gserviceaccount.com' },
      }),
    ],
    fires: true,
    severity: 'critical',
  },
  {
    name: 'GCP IAM policy granting only named members',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: alice,
        provider: 'gcp',
        operation: 'SetIamPolicy',
        action: 'policy',
        details: {
          members: 'group:ops@acme.example,serviceAccount:orders-api@acme-prod.iam.gserviceaccount.com',
        },
      }),
    ],
    fires: false,
  },
  {
    name: 'failed rotation test (a service event)',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({ time: T0, principal: alice, operation: 'TestRotationFailed', action: 'rotate', outcome: 'error' }),
    ],
    fires: true,
    severity: 'medium',
  },
  {
    name: 'KMS key scheduled for deletion',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: alice,
        service: 'kms',
        operation: 'ScheduleKeyDeletion',
        action: 'disable',
        resource: {
          id: `arn:aws:kms:us-east-1:${ACCT}:key/1234abcd`,
          type: 'key',
          name: 'key/1234abcd',
          account: ACCT,
          region: 'us-east-1',
        },
        details: { pendingWindowInDays: 7 },
      }),
    ],
    fires: true,
    severity: 'high',
  },
  {
    name: 'Key Vault purge',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: alice,
        provider: 'azure',
        service: 'keyvault',
        operation: 'SecretPurge',
        action: 'delete',
      }),
    ],
    fires: true,
    severity: 'high',
  },
  {
    name: 'Key Vault backup',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: alice,
        provider: 'azure',
        service: 'keyvault',
        operation: 'SecretBackup',
        action: 'backup',
      }),
    ],
    fires: true,
    severity: 'high',
  },
  {
    name: 'rotation failed',
    detector: 'sensitive-operation',
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: {
          id: 'aws:service:secretsmanager.amazonaws.com',
          type: 'service',
          name: 'secretsmanager.amazonaws.com',
          account: ACCT,
        },
        operation: 'RotationFailed',
        action: 'rotate',
      }),
    ],
    fires: true,
    severity: 'medium',
  },
  {
    name: 'a plain read',
    detector: 'sensitive-operation',
    history: [],
    trigger: [ev({ time: T0, principal: alice })],
    fires: false,
  },
  // canary-access
  {
    name: 'describe of a canary',
    detector: 'canary-access',
    config: { 'canary-access': { secrets: ['prod/canary/*'] } },
    history: [],
    trigger: [
      ev({
        time: T0,
        principal: alice,
        resource: secret('prod/canary/admin-db'),
        operation: 'DescribeSecret',
        action: 'describe',
      }),
    ],
    fires: true,
    severity: 'critical',
  },
  {
    name: 'service decrypt for a canary read',
    detector: 'canary-access',
    config: { 'canary-access': { secrets: [secret('prod/canary/admin-db').id] } },
    history: [],
    trigger: [
      {
        ...ev({
          time: T0,
          principal: api,
          service: 'kms',
          operation: 'Decrypt',
          action: 'decrypt',
          viaService: 'secretsmanager.amazonaws.com',
          resource: null,
        }),
        relatedResource: secret('prod/canary/admin-db').id,
      },
    ],
    fires: true,
  },
  {
    name: 'other secret',
    detector: 'canary-access',
    config: { 'canary-access': { secrets: ['prod/canary/*'] } },
    history: [],
    trigger: [ev({ time: T0, principal: alice, resource: db })],
    fires: false,
  },
  {
    name: 'no canaries configured',
    detector: 'canary-access',
    history: [],
    trigger: [ev({ time: T0, principal: alice, resource: secret('prod/canary/admin-db') })],
    fires: false,
  },
  // cross-account
  {
    name: 'role of an unknown account reads',
    detector: 'cross-account',
    history: apiHabit,
    trigger: [ev({ time: day14, principal: role('scanner', '999988887777'), resource: db })],
    fires: true,
    severity: 'high',
  },
  {
    name: 'allowlisted account',
    detector: 'cross-account',
    config: { 'cross-account': { allowAccounts: ['999988887777'] } },
    history: apiHabit,
    trigger: [ev({ time: day14, principal: role('scanner', '999988887777'), resource: db })],
    fires: false,
  },
  {
    name: 'sharing learned during warm-up',
    detector: 'cross-account',
    history: [
      ...apiHabit,
      ev({ time: T0 + HOUR, principal: role('reporting', '222233334444'), resource: db }),
    ],
    trigger: [ev({ time: day14, principal: role('reporting', '222233334444'), resource: db })],
    fires: false,
  },
  {
    name: 'same account',
    detector: 'cross-account',
    history: apiHabit,
    trigger: [ev({ time: day14, principal: worker, resource: db })],
    fires: false,
  },
];

describe.each(cases)('$detector: $name', (c) => {
  it(c.fires ? 'fires' : 'stays quiet', () => {
    const { findings } = run(c.detector, [...c.history, ...c.trigger], c.config);
    const got = c.trigger
      .flatMap((e) => findings.get(e.id) ?? [])
      .filter((f) => f.detector.id === c.detector);
    const inHistory = c.history.flatMap((e) => findings.get(e.id) ?? []);
    expect(inHistory.map((f) => f.finding.title)).toEqual([]);
    expect(got.length > 0).toBe(c.fires);
    if (c.fires && c.severity) {
      const top = got.map((f) => f.finding.severity);
      expect(top).toContain(c.severity);
    }
    for (const f of got) {
      const ev = f.finding.evidence;
      expect(ev.summary).toMatch(/\d/);
      expect(Object.keys(ev.observed).length).toBeGreaterThan(0);
      expect(ev.threshold).not.toBeNull();
    }
  });
});

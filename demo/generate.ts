import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  type AwsActor,
  cloudTrailKey,
  cloudTrailRecord,
  type KeyVaultInput,
  keyVaultBlobPath,
  keyVaultRecord,
  rng,
} from './records.js';

/**
 * The demo: two weeks of a small organisation's secret reads, in CloudTrail's S3 layout and Key Vault's
 * blob layout, with one incident in the second week. Seeded, so every run writes the same bytes.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const DEMO_START = Date.UTC(2026, 10, 2); // Monday 2 November 2026
export const DEMO_DAYS = 14;
const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const SUB = '8f1c3d2e-5b6a-4c7d-9e8f-0a1b2c3d4e5f';
const RG = 'prod-rg';
const VAULT = 'contoso-prod';
const LAMBDA_UA = 'aws-sdk-nodejs/3.600.0 linux/x64 node/20.12.0 exec-env/AWS_Lambda_nodejs20.x';
const ECS_UA = 'aws-sdk-java/2.25.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17 exec-env/AWS_ECS_FARGATE';
const CONSOLE_UA =
  'aws-cli/2.15.0 Python/3.11.6 Darwin/23.1.0 exe/x86_64 command/secretsmanager.get-secret-value';

const secretArn = (name: string, suffix: string) =>
  `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${suffix}`;
const KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

export interface DemoSummary {
  readonly files: number;
  readonly records: number;
  readonly incident: string;
}

interface Buckets {
  ct: Map<number, Record<string, unknown>[]>;
  kv: Map<number, string[]>;
}

function addCt(b: Buckets, rec: Record<string, unknown>, time: number) {
  const h = Math.floor(time / HOUR) * HOUR;
  const list = b.ct.get(h) ?? [];
  list.push(rec);
  b.ct.set(h, list);
}

function addKv(b: Buckets, input: KeyVaultInput) {
  const h = Math.floor(input.time / HOUR) * HOUR;
  const list = b.kv.get(h) ?? [];
  list.push(JSON.stringify(keyVaultRecord(input)));
  b.kv.set(h, list);
}

/** A secret read as CloudTrail records it, with the KMS Decrypt that Secrets Manager makes for it. */
function secretRead(
  b: Buckets,
  time: number,
  actor: AwsActor,
  secretId: string,
  fullArn: string,
  ip: string,
  ua: string,
  seed: string,
  errorCode?: string,
) {
  addCt(
    b,
    cloudTrailRecord({
      time,
      actor,
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'GetSecretValue',
      requestParameters: { secretId },
      sourceIPAddress: ip,
      userAgent: ua,
      seed,
      ...(errorCode
        ? { errorCode, errorMessage: 'User is not authorized to perform: secretsmanager:GetSecretValue' }
        : {}),
    }),
    time,
  );
  if (errorCode) return;
  addCt(
    b,
    cloudTrailRecord({
      time: time + 40,
      actor,
      eventSource: 'kms.amazonaws.com',
      eventName: 'Decrypt',
      invokedBy: 'secretsmanager.amazonaws.com',
      requestParameters: {
        encryptionContext: { SecretARN: fullArn, SecretVersionId: 'EXAMPLE1-90ab-cdef-fedc-ba987SECRET1' },
        encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      },
      sourceIPAddress: 'secretsmanager.amazonaws.com',
      userAgent: 'secretsmanager.amazonaws.com',
      resources: [{ ARN: KMS_KEY, accountId: ACCOUNT, type: 'AWS::KMS::Key' }],
      seed: `${seed}:kms`,
    }),
    time + 40,
  );
}

export function generateDemo(outDir: string, seed = 7): DemoSummary {
  const r = rng(seed);
  const b: Buckets = { ct: new Map(), kv: new Map() };
  const lambdaIp = () => `3.${80 + Math.floor(r() * 20)}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`;
  const ordersApi = (session: string): AwsActor => ({
    kind: 'role',
    account: ACCOUNT,
    role: 'orders-api',
    session,
  });
  const billing = (session: string): AwsActor => ({
    kind: 'role',
    account: ACCOUNT,
    role: 'billing-worker',
    session,
  });
  const people = ['alice@example.com', 'bob@example.com'];

  for (let day = 0; day < DEMO_DAYS; day++) {
    const dayStart = DEMO_START + day * DAY;
    const weekday = new Date(dayStart).getUTCDay() % 6 !== 0;
    // orders-api (Lambda): reads its database secret on each cold start, a few times an hour, by name.
    for (let h = 0; h < 24; h++) {
      const starts = 1 + Math.floor(r() * (h >= 7 && h <= 20 ? 4 : 2));
      for (let i = 0; i < starts; i++) {
        const t = dayStart + h * HOUR + Math.floor(r() * HOUR);
        const session = `orders-api-${Math.floor(r() * 1e8).toString(16)}`;
        secretRead(
          b,
          t,
          ordersApi(session),
          'prod/orders/db',
          secretArn('prod/orders/db', 'Xy12Ab'),
          lambdaIp(),
          LAMBDA_UA,
          `oa:${day}:${h}:${i}`,
        );
      }
      // billing-worker (ECS): every hour, by full ARN.
      const t = dayStart + h * HOUR + 5 * 60_000 + Math.floor(r() * 60_000);
      secretRead(
        b,
        t,
        billing('ecs-task-7f3a'),
        secretArn('prod/billing/stripe', 'Qw34Er'),
        secretArn('prod/billing/stripe', 'Qw34Er'),
        '10.0.12.34',
        ECS_UA,
        `bw:${day}:${h}`,
      );
      // config-loader: a SecureString parameter, decrypted, every hour.
      const tp = dayStart + h * HOUR + 30 * 60_000;
      addCt(
        b,
        cloudTrailRecord({
          time: tp,
          actor: { kind: 'role', account: ACCOUNT, role: 'config-loader', session: `i-0abc${h}` },
          eventSource: 'ssm.amazonaws.com',
          eventName: 'GetParameter',
          requestParameters: { name: '/prod/orders/feature-flags', withDecryption: true },
          sourceIPAddress: '10.0.40.7',
          userAgent: 'aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22 exec-env/AWS_ECS_EC2',
          seed: `cl:${day}:${h}`,
        }),
        tp,
      );
      // Other services share the trail: skipped and counted, not quarantined.
      if (h % 6 === 0) {
        addCt(
          b,
          cloudTrailRecord({
            time: tp + 1000,
            actor: { kind: 'role', account: ACCOUNT, role: 'ops-automation', session: 'cron' },
            eventSource: 'ec2.amazonaws.com',
            eventName: 'DescribeInstances',
            sourceIPAddress: '10.0.40.8',
            userAgent: 'Boto3/1.34.0',
            seed: `ec2:${day}:${h}`,
          }),
          tp + 1000,
        );
      }
      // orders-web (Key Vault app): its connection string every 20 minutes; versions vary.
      for (let k = 0; k < 3; k++) {
        const tk = dayStart + h * HOUR + k * 20 * 60_000 + Math.floor(r() * 60_000);
        addKv(b, {
          time: tk,
          subscription: SUB,
          resourceGroup: RG,
          vault: VAULT,
          operationName: 'SecretGet',
          objectUri: `https://${VAULT}.vault.azure.net/secrets/sql-connection/${day % 2 ? '4f1b2c' : '9a8b7c'}`,
          callerIp: '20.42.7.19',
          identity: {
            oid: 'a6f0c1d2-1111-4a4a-9b9b-0c0c0c0c0c01',
            appid: '5e3a1b2c-2222-4b4b-8c8c-0d0d0d0d0d02',
          },
          seed: `kv:${day}:${h}:${k}`,
        });
      }
    }
    // People, through IAM Identity Center, in office hours on weekdays (both on the first day).
    if (weekday) {
      for (const [pi, user] of people.entries()) {
        const reads = day === 0 ? 2 : Math.floor(r() * 3);
        for (let i = 0; i < reads; i++) {
          const t = dayStart + (9 + Math.floor(r() * 8)) * HOUR + Math.floor(r() * HOUR);
          const name = pi === 1 && i === 1 ? 'staging/orders/db' : 'dev/orders/api-key';
          const actor: AwsActor = { kind: 'sso', account: ACCOUNT, permissionSet: 'Developer', user };
          secretRead(
            b,
            t,
            actor,
            name,
            secretArn(name, 'Zx56Cv'),
            `198.51.100.${20 + pi}`,
            CONSOLE_UA,
            `p:${day}:${pi}:${i}`,
          );
        }
      }
      const tc = dayStart + 10 * HOUR + Math.floor(r() * 6 * HOUR);
      addKv(b, {
        time: tc,
        subscription: SUB,
        resourceGroup: RG,
        vault: VAULT,
        operationName: 'SecretGet',
        objectUri: `https://${VAULT}.vault.azure.net/secrets/deploy-token/1c2d3e`,
        callerIp: '198.51.100.44',
        identity: {
          upn: 'carol@contoso.com',
          oid: 'c0c0c0c0-3333-4c4c-9d9d-0e0e0e0e0e03',
          appid: '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
        },
        clientInfo: 'AzureCLI/2.60.0',
        seed: `kvc:${day}`,
      });
    }
  }

  // The incident: on Friday 13 November at 02:14 UTC, orders-api's credentials are used from outside
  // AWS to read secrets that role never reads; and orders-web's identity reads the signing key.
  const incident = DEMO_START + 11 * DAY + 2 * HOUR + 14 * 60_000;
  const stolen = ordersApi('orders-api-5e1f09aa');
  const attacker = '203.0.113.77';
  secretRead(
    b,
    incident,
    stolen,
    'prod/orders/db',
    secretArn('prod/orders/db', 'Xy12Ab'),
    attacker,
    'curl/8.4.0',
    'atk:0',
  );
  secretRead(
    b,
    incident + 20_000,
    stolen,
    'prod/billing/stripe',
    secretArn('prod/billing/stripe', 'Qw34Er'),
    attacker,
    'curl/8.4.0',
    'atk:1',
  );
  secretRead(
    b,
    incident + 45_000,
    stolen,
    'prod/admin/root-db',
    secretArn('prod/admin/root-db', 'Rt78Yu'),
    attacker,
    'curl/8.4.0',
    'atk:2',
  );
  secretRead(
    b,
    incident + 70_000,
    stolen,
    'prod/payments/signing',
    secretArn('prod/payments/signing', 'Ui90Op'),
    attacker,
    'curl/8.4.0',
    'atk:3',
    'AccessDeniedException',
  );
  addKv(b, {
    time: incident + 3 * HOUR,
    subscription: SUB,
    resourceGroup: RG,
    vault: VAULT,
    operationName: 'SecretGet',
    objectUri: `https://${VAULT}.vault.azure.net/secrets/signing-key/77aa11`,
    callerIp: '185.220.101.4',
    identity: { oid: 'a6f0c1d2-1111-4a4a-9b9b-0c0c0c0c0c01', appid: '5e3a1b2c-2222-4b4b-8c8c-0d0d0d0d0d02' },
    seed: 'kv-atk',
  });

  let files = 0;
  let records = 0;
  const write = (path: string, data: string | Buffer) => {
    const full = join(outDir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, data);
    files++;
  };
  for (const [hour, recs] of [...b.ct.entries()].sort((x, y) => x[0] - y[0])) {
    recs.sort((x, y) => String(x.eventTime).localeCompare(String(y.eventTime)));
    records += recs.length;
    write(
      cloudTrailKey(ACCOUNT, REGION, hour, `demo${String(hour / HOUR).slice(-4)}`),
      gzipSync(JSON.stringify({ Records: recs })),
    );
  }
  for (const [hour, lines] of [...b.kv.entries()].sort((x, y) => x[0] - y[0])) {
    records += lines.length;
    // One blob was cut off mid-line by a copy tool: its last line is damaged and will be quarantined.
    const damaged = hour === DEMO_START + 3 * DAY + 5 * HOUR;
    const text = lines.join('\n') + '\n';
    write(
      keyVaultBlobPath(SUB, RG, VAULT, hour),
      damaged ? `${text}{"time": "2026-11-05T05:59:59.000Z", "category": "AuditEv` : text,
    );
  }
  return {
    files,
    records,
    incident: `${new Date(incident).toISOString()}: orders-api credentials used from ${attacker}; orders-web read signing-key`,
  };
}

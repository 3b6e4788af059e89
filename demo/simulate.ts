import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  type AwsActor,
  cloudTrailKey,
  cloudTrailRecord,
  keyVaultBlobPath,
  keyVaultRecord,
  rng,
  uuidFrom,
} from './records.js';

/**
 * A month of an organisation's secret traffic in the real raw formats, with labelled attacks.
 * CloudTrail files follow the S3 layout (`AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz`,
 * `{"Records":[...]}`), with a share of records delivered in the next hour's file, as CloudTrail does.
 * Key Vault blobs are `PT1H.json` JSON Lines. About 50 principals: Lambda and ECS roles with diurnal
 * rhythms, nightly batch jobs, a CI deploy role, a rotation Lambda, people through IAM Identity Center,
 * a legacy IAM user, a partner account, Key Vault apps and users.
 */

export interface SimulateOptions {
  readonly days: number;
  readonly seed: number;
  readonly outDir: string;
  /** First day (UTC midnight); default 2026-03-02, a Monday. */
  readonly start?: number;
  /** Inject attacks (default true); false gives a benign corpus. */
  readonly attacks?: boolean;
}

export interface AttackLabel {
  readonly id: string;
  readonly kind: AttackKind;
  /** Normalized principal id (what vigil's alerts carry) and name. */
  readonly principal: string;
  readonly principalName: string;
  readonly start: string;
  readonly end: string;
  readonly description: string;
}

export type AttackKind =
  | 'stolen-workload-credentials'
  | 'off-hours'
  | 'volume-spike'
  | 'new-principal'
  | 'new-access'
  | 'mass-retrieval'
  | 'denied-probing'
  | 'destructive'
  | 'canary'
  | 'cross-account';

export interface SimulateResult {
  readonly records: number;
  readonly files: number;
  readonly principals: number;
  readonly labels: AttackLabel[];
  /** The vigil config the scenario assumes (canary secrets). */
  readonly config: { detectors: Record<string, unknown> };
}

const HOUR = 3_600_000;
const DAY = 86_400_000;
const ACCT = '111122223333';
const PARTNER = '444455556666';
const REGION = 'us-east-1';
const SUB = '8f2c61c4-3b0e-4c1a-9f55-2d7a1b6c9e01';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const RG = 'prod-rg';
const VAULTS = ['contoso-prod-kv', 'contoso-shared-kv'];
const CANARY = 'prod/canary/root-db-password';

const LAMBDA_UA = (rt: string) =>
  `aws-sdk-js/3.614.0 ua/2.0 os/linux#5.10.219-229.866.amzn2.x86_64 lang/js md/nodejs#20.15.1 api/secrets-manager#3.614.0 exec-env/AWS_Lambda_${rt}`;
const ECS_UA =
  'Boto3/1.34.131 md/Botocore#1.34.131 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.12.4 exec-env/AWS_ECS_FARGATE';
const JAVA_UA =
  'aws-sdk-java/2.25.60 Linux/5.10.218-208.862.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. exec-env/AWS_EC2';
const CLI_UA = (os: string) =>
  `aws-cli/2.17.${os.length} md/awscrt#0.20.11 ua/2.0 os/${os} md/arch#x86_64 lang/python#3.11.9 command/secretsmanager.get-secret-value`;
const BROWSER_UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

type Rand = () => number;

function poisson(r: Rand, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gauss(r)));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r();
  } while (p > l);
  return k - 1;
}

function gauss(r: Rand): number {
  return Math.sqrt(-2 * Math.log(r() || 1e-9)) * Math.cos(2 * Math.PI * r());
}

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

// Public AWS addresses in us-east-1 pools: Lambda functions outside a VPC call from these.
function awsIp(r: Rand): string {
  const first = pick(r, [
    '3.80',
    '3.83',
    '3.208',
    '3.231',
    '18.204',
    '18.208',
    '34.195',
    '44.192',
    '52.2',
    '52.4',
    '54.87',
    '54.144',
  ]);
  return `${first}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
}

function secretArn(name: string, account = ACCT): string {
  const suffix = uuidFrom(name).replace(/-/g, '').slice(0, 6);
  return `arn:aws:secretsmanager:${REGION}:${account}:secret:${name}-${suffix}`;
}
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCT}:key/0b6f2a7e-5c3d-4e8f-9a1b-2c3d4e5f6a7b`;

interface Workload {
  kind: 'lambda' | 'ecs' | 'ec2';
  role: string;
  secrets: string[];
  params: string[];
  /** Reads per hour at the daily peak. */
  peak: number;
  /** Peak hour UTC and whether the rhythm is flat, diurnal or a nightly batch. */
  shape: 'diurnal' | 'flat' | 'nightly';
  peakHour: number;
  ua: string;
}

interface Person {
  user: string;
  permissionSet: string;
  /** Working hours UTC [start, end). */
  hours: [number, number];
  ips: string[];
  ua: string;
  secrets: string[];
  /** Reads on a working day (mean). */
  daily: number;
}

interface KvApp {
  name: string;
  oid: string;
  appid: string;
  vault: string;
  secrets: string[];
  peak: number;
  ip: string;
  user?: { upn: string; hours: [number, number] };
}

const SERVICES = [
  'orders',
  'payments',
  'billing',
  'users',
  'search',
  'notify',
  'inventory',
  'shipping',
  'reports',
  'auth',
  'catalog',
  'media',
];

function org(r: Rand) {
  const secretsOf = (svc: string) => [`prod/${svc}/db`, `prod/${svc}/api-key`];
  const workloads: Workload[] = [];
  SERVICES.forEach((svc, i) => {
    workloads.push({
      kind: 'lambda',
      role: `${svc}-api-lambda`,
      secrets: i % 3 === 0 ? secretsOf(svc) : [`prod/${svc}/db`],
      params: i % 4 === 1 ? [`/prod/${svc}/config`] : [],
      peak: 2 + Math.floor(r() * 10),
      shape: i % 5 === 4 ? 'flat' : 'diurnal',
      peakHour: 14 + Math.floor(r() * 6),
      ua: LAMBDA_UA(i % 2 ? 'nodejs20.x' : 'python3.12'),
    });
  });
  for (const svc of SERVICES.slice(0, 6)) {
    workloads.push({
      kind: 'ecs',
      role: `${svc}-worker-task`,
      secrets: [`prod/${svc}/db`, `prod/${svc}/queue`],
      params: [],
      peak: 4 + Math.floor(r() * 6),
      shape: 'flat',
      peakHour: 0,
      ua: ECS_UA,
    });
  }
  workloads.push(
    {
      kind: 'ec2',
      role: 'nightly-etl-instance',
      secrets: [
        'prod/reports/db',
        'prod/billing/db',
        'prod/orders/db',
        'prod/warehouse/db',
        'prod/warehouse/s3-creds',
      ],
      params: [],
      peak: 12,
      shape: 'nightly',
      peakHour: 2,
      ua: JAVA_UA,
    },
    {
      kind: 'ec2',
      role: 'backup-runner-instance',
      secrets: ['prod/backup/encryption-key', 'prod/users/db'],
      params: [],
      peak: 6,
      shape: 'nightly',
      peakHour: 4,
      ua: JAVA_UA,
    },
  );
  const people: Person[] = [];
  const names = [
    'alice',
    'bob',
    'carol',
    'dave',
    'erin',
    'frank',
    'grace',
    'heidi',
    'ivan',
    'judy',
    'mallory',
    'niaj',
    'olivia',
    'peggy',
    'rupert',
  ];
  names.forEach((n, i) => {
    const eu = i % 3 === 0;
    const team = SERVICES.slice(i % SERVICES.length, (i % SERVICES.length) + 2);
    people.push({
      user: `${n}@example.com`,
      permissionSet: i < 3 ? 'AdministratorAccess' : 'DeveloperAccess',
      hours: eu ? [7, 16] : [13, 22],
      ips: eu
        ? [`81.2.69.${10 + i}`, `81.2.70.${20 + i}`]
        : [`73.162.${i}.${20 + i}`, `104.28.${i}.${9 + i}`],
      ua: i % 4 === 0 ? BROWSER_UA : CLI_UA(eu ? 'linux' : 'macos'),
      secrets: team.flatMap((s) => [`prod/${s}/db`, `prod/${s}/api-key`]),
      daily: 2 + Math.floor(r() * 6),
    });
  });
  const kvApps: KvApp[] = ['web-frontend', 'checkout', 'recommender', 'mailer', 'ledger'].map((n, i) => ({
    name: n,
    oid: uuidFrom(`oid:${n}`),
    appid: uuidFrom(`app:${n}`),
    vault: VAULTS[i % 2]!,
    secrets: [`${n}-sql`, `${n}-storage`],
    peak: 3 + Math.floor(r() * 8),
    ip: `20.${42 + i}.${Math.floor(r() * 200)}.${10 + i}`,
  }));
  const kvUsers: KvApp[] = ['sam', 'tina', 'uma', 'victor'].map((n, i) => ({
    name: n,
    oid: uuidFrom(`oid:${n}`),
    appid: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c', // Azure portal
    vault: VAULTS[i % 2]!,
    secrets: [`${kvAppsName(i)}-sql`],
    peak: 0,
    ip: `98.${97 + i}.${12 + i}.${40 + i}`,
    user: { upn: `${n}@contoso.com`, hours: [14, 23] },
  }));
  return { workloads, people, kvApps, kvUsers };
}
function kvAppsName(i: number) {
  return ['web-frontend', 'checkout', 'recommender', 'mailer', 'ledger'][i % 5]!;
}

/** Collects records by output file, with CloudTrail's delivery delay. */
class Writer {
  readonly ct = new Map<string, Record<string, unknown>[]>();
  readonly kv = new Map<string, Record<string, unknown>[]>();
  records = 0;
  constructor(private readonly r: Rand) {}

  cloudtrail(rec: Record<string, unknown>, time: number, account = ACCT): void {
    // About 8% of records land in the next hour's file: CloudTrail delivers within ~15 minutes.
    const late = this.r() < 0.08 ? HOUR : 0;
    const hour = Math.floor((time + late) / HOUR) * HOUR;
    const key = cloudTrailKey(
      account,
      REGION,
      hour,
      uuidFrom(`${account}${hour}`).slice(0, 16).replace(/-/g, ''),
    );
    let list = this.ct.get(key);
    if (!list) this.ct.set(key, (list = []));
    list.push(rec);
    this.records++;
  }

  keyvault(vault: string, rec: Record<string, unknown>, time: number): void {
    const key = keyVaultBlobPath(SUB, RG, vault, Math.floor(time / HOUR) * HOUR);
    let list = this.kv.get(key);
    if (!list) this.kv.set(key, (list = []));
    list.push(rec);
    this.records++;
  }

  write(outDir: string): number {
    let files = 0;
    for (const [key, recs] of this.ct) {
      const path = join(outDir, key);
      mkdirSync(dirname(path), { recursive: true });
      // CloudTrail files are not in time order.
      const shuffled = [...recs].sort(() => this.r() - 0.5);
      writeFileSync(path, gzipSync(JSON.stringify({ Records: shuffled })));
      files++;
    }
    for (const [key, recs] of this.kv) {
      const path = join(outDir, key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${recs.map((x) => JSON.stringify(x)).join('\n')}\n`);
      files++;
    }
    return files;
  }
}

/** Writes the traffic and the labels file (`labels.json`) under `outDir`. */
export function simulate(options: SimulateOptions): SimulateResult {
  const r = rng(options.seed);
  const start = options.start ?? Date.parse('2026-03-02T00:00:00Z');
  const w = new Writer(r);
  const o = org(r);
  let n = 0;
  const seed = () => `${options.seed}:${n++}`;

  const role = (name: string, account = ACCT): AwsActor => ({
    kind: 'role',
    account,
    role: name,
    session: `${name}-${Math.floor(r() * 1e6)}`,
  });
  const sso = (p: Person): AwsActor => ({
    kind: 'sso',
    account: ACCT,
    permissionSet: p.permissionSet,
    user: p.user,
  });

  /** GetSecretValue (+ the KMS Decrypt Secrets Manager makes for it). */
  function readSecret(
    t: number,
    actor: AwsActor,
    name: string,
    ip: string,
    ua: string,
    extra: { vpce?: boolean; errorCode?: string } = {},
  ) {
    const arn = secretArn(name);
    // A principal of another account names the secret by ARN; the owner's trail records the call.
    const foreign = actor.account !== ACCT;
    const rec = cloudTrailRecord({
      time: t,
      actor,
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'GetSecretValue',
      requestParameters: { secretId: foreign || r() < 0.5 ? arn : name },
      sourceIPAddress: ip,
      userAgent: ua,
      ...(extra.errorCode ? { errorCode: extra.errorCode } : {}),
      seed: seed(),
    });
    if (extra.vpce) rec.vpcEndpointId = 'vpce-0f1e2d3c4b5a69788';
    if (foreign) rec.recipientAccountId = ACCT;
    w.cloudtrail(rec, t);
    if (extra.errorCode) return;
    const dec = cloudTrailRecord({
      time: t + 40,
      actor,
      invokedBy: 'secretsmanager.amazonaws.com',
      eventSource: 'kms.amazonaws.com',
      eventName: 'Decrypt',
      requestParameters: {
        encryptionContext: { SecretARN: arn, SecretVersionId: uuidFrom(arn) },
        encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      },
      resources: [{ ARN: KEY_ARN, accountId: ACCT, type: 'AWS::KMS::Key' }],
      sourceIPAddress: 'secretsmanager.amazonaws.com',
      userAgent: 'secretsmanager.amazonaws.com',
      seed: seed(),
    });
    if (foreign) dec.recipientAccountId = ACCT;
    w.cloudtrail(dec, t + 40);
  }

  function readParam(t: number, actor: AwsActor, name: string, ip: string, ua: string) {
    w.cloudtrail(
      cloudTrailRecord({
        time: t,
        actor,
        eventSource: 'ssm.amazonaws.com',
        eventName: 'GetParameter',
        requestParameters: { name, withDecryption: true },
        sourceIPAddress: ip,
        userAgent: ua,
        seed: seed(),
      }),
      t,
    );
  }

  function call(
    t: number,
    actor: AwsActor,
    eventName: string,
    params: Record<string, unknown> | null,
    ip: string,
    ua: string,
    errorCode?: string,
    source = 'secretsmanager.amazonaws.com',
  ) {
    w.cloudtrail(
      cloudTrailRecord({
        time: t,
        actor,
        eventSource: source,
        eventName,
        requestParameters: params,
        sourceIPAddress: ip,
        userAgent: ua,
        readOnly: false,
        ...(errorCode ? { errorCode } : {}),
        seed: seed(),
      }),
      t,
    );
  }

  function kvGet(
    t: number,
    app: KvApp,
    secretName: string,
    status = 200,
    ip = app.ip,
    clientInfo?: string,
    op = 'SecretGet',
  ) {
    const identity = app.user
      ? { upn: app.user.upn, oid: app.oid, appid: app.appid }
      : { oid: app.oid, appid: app.appid };
    w.keyvault(
      app.vault,
      keyVaultRecord({
        time: t,
        subscription: SUB,
        resourceGroup: RG,
        vault: app.vault,
        operationName: op,
        objectUri: `https://${app.vault}.vault.azure.net/secrets/${secretName}/${uuidFrom(secretName).replace(/-/g, '').slice(0, 32)}`,
        callerIp: ip,
        identity: { ...identity, tid: TENANT },
        status,
        clientInfo:
          clientInfo ??
          (app.user ? BROWSER_UA : 'azsdk-net-Security.KeyVault.Secrets/4.6.0 (.NET 8.0.6; Ubuntu 22.04)'),
        seed: seed(),
      }),
      t,
    );
  }

  const days = options.days;
  for (let d = 0; d < days; d++) {
    const day = start + d * DAY;
    const weekend = [0, 6].includes(new Date(day).getUTCDay());
    for (let h = 0; h < 24; h++) {
      const hourStart = day + h * HOUR;
      const at = () => hourStart + Math.floor(r() * HOUR);
      for (const wl of o.workloads) {
        let rate: number;
        if (wl.shape === 'nightly') rate = h === wl.peakHour ? wl.peak : 0;
        else if (wl.shape === 'flat') rate = wl.peak * 0.8;
        else {
          const dist = Math.min(Math.abs(h - wl.peakHour), 24 - Math.abs(h - wl.peakHour));
          rate = wl.peak * (0.15 + 0.85 * Math.exp(-(dist * dist) / 18)) * (weekend ? 0.6 : 1);
        }
        const k = wl.shape === 'nightly' ? rate : poisson(r, rate);
        const actor = role(wl.role);
        for (let i = 0; i < k; i++) {
          const t =
            wl.shape === 'nightly' ? hourStart + 5 * 60_000 + i * 20_000 + Math.floor(r() * 5000) : at();
          const name = wl.shape === 'nightly' ? wl.secrets[i % wl.secrets.length]! : pick(r, wl.secrets);
          const ip =
            wl.kind === 'lambda'
              ? awsIp(r)
              : `10.0.${wl.kind === 'ecs' ? 12 : 40}.${1 + Math.floor(r() * 250)}`;
          readSecret(t, actor, name, ip, wl.ua, { vpce: wl.kind !== 'lambda' });
          if (wl.params.length && r() < 0.5) readParam(t + 5, actor, pick(r, wl.params), ip, wl.ua);
        }
      }
      // People: weekdays in their working hours.
      for (const p of o.people) {
        if (weekend || h < p.hours[0] || h >= p.hours[1]) continue;
        const k = poisson(r, p.daily / (p.hours[1] - p.hours[0]));
        for (let i = 0; i < k; i++) {
          const t = at();
          const ip = r() < 0.8 ? p.ips[0]! : p.ips[1]!;
          if (r() < 0.15) call(t - 2000, sso(p), 'ListSecrets', { maxResults: 50 }, ip, p.ua);
          if (r() < 0.1) call(t - 1000, sso(p), 'DescribeSecret', { secretId: pick(r, p.secrets) }, ip, p.ua);
          readSecret(t, sso(p), pick(r, p.secrets), ip, p.ua);
        }
      }
      // CI: one to three deploys on weekdays during US hours, each reading its deploy set.
      if (!weekend && h >= 14 && h <= 22 && r() < 0.25) {
        const actor = role('github-actions-deploy');
        const t0 = at();
        const set = SERVICES.slice(0, 4 + Math.floor(r() * 8)).map((s) => `/prod/${s}/config`);
        const ip = `20.${57 + Math.floor(r() * 3)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 250)}`;
        set.forEach(
          (name, i) =>
            void readParam(
              t0 + i * 1500,
              actor,
              name,
              ip,
              'aws-cli/2.17.5 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0-1022-azure md/arch#x86_64 lang/python#3.11.9 command/ssm.get-parameter',
            ),
        );
        for (const s of SERVICES.slice(0, 3))
          readSecret(
            t0 + 30_000,
            actor,
            `prod/${s}/api-key`,
            ip,
            'aws-cli/2.17.5 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0-1022-azure md/arch#x86_64 lang/python#3.11.9 command/secretsmanager.get-secret-value',
          );
      }
      // Partner account reads the shared report secret once a day.
      if (h === 6)
        readSecret(
          at(),
          role('partner-reporting', PARTNER),
          'prod/reports/partner-export',
          awsIp(r),
          LAMBDA_UA('python3.12'),
        );
      // Legacy IAM user: a Jenkins box reading two secrets at 01:00.
      if (h === 1) {
        const jenkins: AwsActor = { kind: 'user', account: ACCT, user: 'jenkins-legacy' };
        readSecret(at(), jenkins, 'prod/legacy/ftp', '198.18.7.21', JAVA_UA.replace(' exec-env/AWS_EC2', ''));
        readSecret(
          at(),
          jenkins,
          'prod/legacy/smtp',
          '198.18.7.21',
          JAVA_UA.replace(' exec-env/AWS_EC2', ''),
        );
      }
      // Key Vault apps and portal users.
      for (const app of o.kvApps) {
        const dist = Math.min(Math.abs(h - 16), 24 - Math.abs(h - 16));
        const k = poisson(r, app.peak * (0.2 + 0.8 * Math.exp(-(dist * dist) / 20)));
        for (let i = 0; i < k; i++) kvGet(at(), app, pick(r, app.secrets));
      }
      for (const u of o.kvUsers) {
        if (weekend || h < u.user!.hours[0] || h >= u.user!.hours[1]) continue;
        if (r() < 0.25) kvGet(at(), u, pick(r, u.secrets));
      }
    }
    // Rotation: each Lambda's db secret rotates every 7 days, staggered; the service and the rotation Lambda.
    SERVICES.forEach((svc, i) => {
      if ((d + i) % 7 !== 0) return;
      const name = `prod/${svc}/db`;
      const t = day + 3 * HOUR + i * 60_000;
      const service: AwsActor = { kind: 'service', account: ACCT, service: 'secretsmanager.amazonaws.com' };
      w.cloudtrail(
        {
          ...cloudTrailRecord({
            time: t,
            actor: service,
            eventSource: 'secretsmanager.amazonaws.com',
            eventName: 'RotationStarted',
            sourceIPAddress: 'secretsmanager.amazonaws.com',
            userAgent: 'secretsmanager.amazonaws.com',
            seed: seed(),
          }),
          eventType: 'AwsServiceEvent',
          serviceEventDetails: { secretId: secretArn(name) },
        },
        t,
      );
      const rot = role('secrets-rotation-lambda');
      const ip = awsIp(r);
      const ua = LAMBDA_UA('python3.12');
      call(t + 2000, rot, 'DescribeSecret', { secretId: secretArn(name) }, ip, ua);
      readSecret(t + 3000, rot, name, ip, ua);
      call(
        t + 5000,
        rot,
        'PutSecretValue',
        { secretId: secretArn(name), clientRequestToken: uuidFrom(`${name}${d}`) },
        ip,
        ua,
      );
      readSecret(t + 8000, rot, name, ip, ua);
      call(
        t + 9000,
        rot,
        'UpdateSecretVersionStage',
        { secretId: secretArn(name), versionStage: 'AWSCURRENT' },
        ip,
        ua,
      );
    });
  }

  const labels: AttackLabel[] = [];
  if (options.attacks !== false && days >= 12) injectAttacks();

  function label(
    kind: AttackKind,
    principal: string,
    principalName: string,
    t0: number,
    t1: number,
    description: string,
  ) {
    labels.push({
      id: `${kind}-${labels.length + 1}`,
      kind,
      principal,
      principalName,
      start: new Date(t0).toISOString(),
      end: new Date(t1).toISOString(),
      description,
    });
  }

  function injectAttacks() {
    const ar = rng(options.seed * 7919 + 1);
    // Attack days spread over the second part of the run, after warm-up.
    const slot = (i: number) =>
      start + (10 + ((i * 5 + Math.floor(ar() * 3)) % Math.max(1, days - 10))) * DAY;
    const roleId = (name: string, acct = ACCT) => `arn:aws:iam::${acct}:role/${name}`;
    const ssoId = (p: Person) =>
      `arn:aws:sts::${ACCT}:assumed-role/AWSReservedSSO_${p.permissionSet}_0123456789abcdef/${p.user}`;
    const attackerIps = ['193.0.6.139', '45.155.205.3', '5.255.255.5', '185.220.101.4'];
    let i = 0;

    // Stolen Lambda credentials used with the CLI from outside AWS.
    for (const wl of [o.workloads[1]!, o.workloads[7]!]) {
      const t = slot(i++) + (8 + Math.floor(ar() * 10)) * HOUR;
      const actor = role(wl.role);
      const ip = pick(ar, attackerIps);
      call(t, actor, 'ListSecrets', { maxResults: 100 }, ip, CLI_UA('linux'));
      const targets = [...wl.secrets, 'prod/payments/db', 'prod/auth/api-key'];
      targets.forEach((s, k) => void readSecret(t + 30_000 + k * 20_000, actor, s, ip, CLI_UA('linux')));
      label(
        'stolen-workload-credentials',
        roleId(wl.role),
        wl.role,
        t,
        t + 5 * 60_000,
        `${wl.role} credentials used from ${ip} with aws-cli`,
      );
    }
    // Stolen managed-identity token used from abroad against Key Vault.
    {
      const app = o.kvApps[2]!;
      const t = slot(i++) + 11 * HOUR;
      for (let k = 0; k < 6; k++)
        kvGet(
          t + k * 45_000,
          app,
          [...app.secrets, 'ledger-sql', 'mailer-sql'][k % 4]!,
          200,
          '45.155.205.3',
          'python-requests/2.32.3',
        );
      label(
        'stolen-workload-credentials',
        `azure:app:${app.oid.toLowerCase()}`,
        app.appid,
        t,
        t + 5 * 60_000,
        `${app.name} token used from 45.155.205.3`,
      );
    }
    // Off-hours reads by a person whose session was hijacked (same client, 03:00 their time).
    for (const p of [o.people[4]!, o.people[9]!]) {
      const t = slot(i++) + ((p.hours[0] + 19) % 24) * HOUR + 17 * 60_000; // 02:00-03:00 local
      for (let k = 0; k < 3; k++)
        readSecret(t + k * 90_000, sso(p), p.secrets[k % p.secrets.length]!, p.ips[0]!, p.ua);
      label(
        'off-hours',
        ssoId(p),
        p.user,
        t,
        t + 5 * 60_000,
        `${p.user} read secrets at ${new Date(t).toISOString().slice(11, 16)} UTC`,
      );
    }
    // A workload loops over its secret: a volume spike from its usual place.
    for (const wl of [o.workloads[13]!]) {
      const t = slot(i++) + 9 * HOUR;
      const actor = role(wl.role);
      for (let k = 0; k < 180; k++)
        readSecret(t + k * 15_000, actor, wl.secrets[0]!, `10.0.12.${1 + (k % 200)}`, wl.ua, { vpce: true });
      label(
        'volume-spike',
        roleId(wl.role),
        wl.role,
        t,
        t + HOUR,
        `${wl.role} read ${wl.secrets[0]} 180 times in 45 min`,
      );
    }
    // A new IAM user appears and reads secrets.
    {
      const t = slot(i++) + 20 * HOUR;
      const actor: AwsActor = { kind: 'user', account: ACCT, user: 'svc-backup-temp' };
      for (const [k, s] of ['prod/users/db', 'prod/payments/db', 'prod/auth/api-key'].entries())
        readSecret(t + k * 60_000, actor, s, '198.51.100.23', CLI_UA('linux'));
      label(
        'new-principal',
        `arn:aws:iam::${ACCT}:user/svc-backup-temp`,
        'svc-backup-temp',
        t,
        t + 5 * 60_000,
        'new IAM user svc-backup-temp read 3 secrets',
      );
    }
    // A Lambda reads a secret outside its set (changed code or injected dependency).
    {
      const wl = o.workloads[4]!;
      const t = slot(i++) + 15 * HOUR;
      readSecret(t, role(wl.role), 'prod/payments/api-key', awsIp(ar), wl.ua);
      label('new-access', roleId(wl.role), wl.role, t, t + 60_000, `${wl.role} read prod/payments/api-key`);
    }
    // A person pulls many secrets in a few minutes.
    {
      const p = o.people[6]!;
      const t = slot(i++) + (p.hours[0] + 2) * HOUR;
      call(t - 60_000, sso(p), 'ListSecrets', { maxResults: 100 }, p.ips[0]!, p.ua);
      SERVICES.flatMap((s) => [`prod/${s}/db`, `prod/${s}/api-key`]).forEach(
        (s, k) => void readSecret(t + k * 8000, sso(p), s, p.ips[0]!, p.ua),
      );
      label(
        'mass-retrieval',
        ssoId(p),
        p.user,
        t - 60_000,
        t + 10 * 60_000,
        `${p.user} read 24 secrets in 4 min`,
      );
    }
    // Probing: a role tries secrets it may not read.
    {
      const wl = o.workloads[15]!;
      const t = slot(i++) + 4 * HOUR;
      const actor = role(wl.role);
      SERVICES.slice(0, 10).forEach(
        (s, k) =>
          void readSecret(t + k * 30_000, actor, `prod/${s}/api-key`, '10.0.12.77', wl.ua, {
            vpce: true,
            errorCode: 'AccessDeniedException',
          }),
      );
      SERVICES.slice(0, 4).forEach(
        (s, k) =>
          void readSecret(t + 400_000 + k * 30_000, actor, `prod/${s}/db`, '10.0.12.77', wl.ua, {
            vpce: true,
            errorCode: 'AccessDeniedException',
          }),
      );
      label(
        'denied-probing',
        roleId(wl.role),
        wl.role,
        t,
        t + 10 * 60_000,
        `${wl.role} denied on 14 secrets`,
      );
    }
    // Destructive: force delete, a public policy, a key scheduled for deletion.
    {
      const p = o.people[1]!;
      const t = slot(i++) + (p.hours[0] + 3) * HOUR;
      call(
        t,
        sso(p),
        'DeleteSecret',
        { secretId: 'prod/search/api-key', forceDeleteWithoutRecovery: true },
        p.ips[0]!,
        p.ua,
      );
      label('destructive', ssoId(p), p.user, t, t + 60_000, `${p.user} force-deleted prod/search/api-key`);
      const q = o.people[2]!;
      const t2 = slot(i++) + (q.hours[0] + 1) * HOUR;
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' },
        ],
      });
      call(
        t2,
        sso(q),
        'PutResourcePolicy',
        { secretId: 'prod/auth/db', resourcePolicy: policy, blockPublicPolicy: false },
        q.ips[0]!,
        q.ua,
      );
      call(
        t2 + 600_000,
        sso(q),
        'ScheduleKeyDeletion',
        { keyId: KEY_ARN, pendingWindowInDays: 7 },
        q.ips[0]!,
        q.ua,
        undefined,
        'kms.amazonaws.com',
      );
      label(
        'destructive',
        ssoId(q),
        q.user,
        t2,
        t2 + 11 * 60_000,
        `${q.user} opened prod/auth/db to * and scheduled the KMS key for deletion`,
      );
      const u = o.kvUsers[1]!;
      const t3 = slot(i++) + 15 * HOUR;
      kvGet(t3, u, 'checkout-sql', 200, u.ip, BROWSER_UA, 'SecretBackup');
      label(
        'destructive',
        `azure:user:${u.oid.toLowerCase()}`,
        u.user!.upn,
        t3,
        t3 + 60_000,
        `${u.user!.upn} backed up checkout-sql`,
      );
    }
    // A canary secret is read.
    {
      const p = o.people[11]!;
      const t = slot(i++) + (p.hours[0] + 4) * HOUR;
      readSecret(t, sso(p), CANARY, p.ips[0]!, p.ua);
      label('canary', ssoId(p), p.user, t, t + 60_000, `${p.user} read the canary ${CANARY}`);
    }
    // An unknown account reads a secret through a permissive policy.
    {
      const t = slot(i++) + 13 * HOUR;
      readSecret(
        t,
        role('OrganizationAccountAccessRole', '777788889999'),
        'prod/auth/db',
        '45.155.205.3',
        CLI_UA('linux'),
      );
      label(
        'cross-account',
        roleId('OrganizationAccountAccessRole', '777788889999'),
        'OrganizationAccountAccessRole',
        t,
        t + 60_000,
        'account 777788889999 read prod/auth/db',
      );
    }
  }

  const files = w.write(options.outDir);
  const config = { detectors: { 'canary-access': { secrets: [CANARY] } } };
  writeFileSync(
    join(options.outDir, 'labels.json'),
    `${JSON.stringify({ seed: options.seed, days, labels, config }, null, 2)}\n`,
  );
  const principals = o.workloads.length + o.people.length + o.kvApps.length + o.kvUsers.length + 4;
  return { records: w.records, files, principals, labels, config };
}

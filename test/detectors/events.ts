import type { Principal, Resource, SecretAccessEvent } from '../../core/event.js';
import type { Detector, RunContext } from '../../detectors/detector.js';
import { DetectionEngine } from '../../detectors/engine.js';
import { DETECTORS } from '../../detectors/registry.js';
import { MemoryState } from '../../detectors/state.js';

/** Realistic normalized events, as ingest/cloudtrail.ts and ingest/keyvault.ts produce them. */

export const ACCT = '111111111111';
export const T0 = Date.parse('2026-03-02T00:00:00Z'); // a Monday
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const LAMBDA_UA =
  'aws-sdk-js/3.616.0 ua/2.0 os/linux lang/js md/nodejs#20.15.1 api/secrets-manager#3.616.0 exec-env/AWS_Lambda_nodejs20.x';
export const CLI_UA =
  'aws-cli/2.17.5 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 command/secretsmanager.get-secret-value';

export function role(name: string, account = ACCT): Principal {
  return {
    id: `arn:aws:iam::${account}:role/${name}`,
    type: 'role',
    name,
    account,
    via: null,
    session: `${name}-session`,
  };
}

export function person(email: string, account = ACCT): Principal {
  const via = `arn:aws:iam::${account}:role/AWSReservedSSO_Developer_0123456789abcdef`;
  return {
    id: `arn:aws:sts::${account}:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/${email}`,
    type: 'person',
    name: email,
    account,
    via,
    session: email,
  };
}

export function secret(name: string, account = ACCT): Resource {
  return {
    id: `arn:aws:secretsmanager:us-east-1:${account}:secret:${name}`,
    type: 'secret',
    name,
    account,
    region: 'us-east-1',
  };
}

let seq = 0;
export interface EventInit {
  time: number;
  principal: Principal;
  resource?: Resource | null;
  operation?: string;
  action?: SecretAccessEvent['action'];
  outcome?: SecretAccessEvent['outcome'];
  errorCode?: string | null;
  ip?: string | null;
  ua?: string | null;
  viaService?: string | null;
  vpce?: string | null;
  details?: Record<string, string | number | boolean>;
  service?: string;
  provider?: SecretAccessEvent['provider'];
}

export function ev(i: EventInit): SecretAccessEvent {
  seq++;
  return {
    id: `aws:test-${i.time}-${seq}`,
    time: new Date(i.time).toISOString(),
    provider: i.provider ?? 'aws',
    service: i.service ?? 'secretsmanager',
    operation: i.operation ?? 'GetSecretValue',
    action: i.action ?? 'read',
    outcome: i.outcome ?? 'success',
    errorCode: i.errorCode ?? (i.outcome === 'denied' ? 'AccessDenied' : null),
    principal: i.principal,
    resource: i.resource === undefined ? secret('prod/orders/db') : i.resource,
    source: {
      ip: i.ip === undefined ? '52.94.76.10' : i.ip,
      userAgent: i.ua === undefined ? LAMBDA_UA : i.ua,
      viaService: i.viaService ?? null,
      vpcEndpointId: i.vpce ?? null,
    },
    region: 'us-east-1',
    account: ACCT,
    providerEventId: null,
    ...(i.details ? { details: i.details } : {}),
  };
}

/** `perHour` reads per hour in the given UTC hours, every day for `days` days from `start`. */
export function habit(
  p: Principal,
  opts: {
    start?: number;
    days: number;
    hours: number[];
    perHour: number;
    secrets: Resource[];
    weekdaysOnly?: boolean;
    ip?: string;
    ua?: string;
  },
): SecretAccessEvent[] {
  const out: SecretAccessEvent[] = [];
  const start = opts.start ?? T0;
  for (let d = 0; d < opts.days; d++) {
    const day = start + d * DAY;
    const wd = new Date(day).getUTCDay();
    if (opts.weekdaysOnly && (wd === 0 || wd === 6)) continue;
    for (const h of opts.hours) {
      for (let k = 0; k < opts.perHour; k++) {
        const t = day + h * HOUR + Math.floor(((k + 0.5) / opts.perHour) * HOUR);
        out.push(
          ev({
            time: t,
            principal: p,
            resource: opts.secrets[(d + k) % opts.secrets.length]!,
            ...(opts.ip ? { ip: opts.ip } : {}),
            ...(opts.ua ? { ua: opts.ua } : {}),
          }),
        );
      }
    }
  }
  return out;
}

export function detector(id: string): Detector {
  const d = DETECTORS.find((x) => x.id === id);
  if (!d) throw new Error(`no detector ${id}`);
  return d;
}

/** Runs events in time order through one detector (or all); returns findings per event id. */
export function run(
  ids: string | readonly string[] | 'all',
  events: readonly SecretAccessEvent[],
  config: Record<string, unknown> = {},
) {
  const detectors = ids === 'all' ? DETECTORS : (typeof ids === 'string' ? [ids] : ids).map(detector);
  const engine = new DetectionEngine({ detectors, config, network: { internalCidrs: [] } });
  const state = new MemoryState();
  const sorted = [...events].sort((a, b) =>
    a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1,
  );
  const ctx: RunContext = { state, firstEventTime: Date.parse(sorted[0]!.time) };
  const findings = new Map<string, ReturnType<DetectionEngine['evaluate']>>();
  for (const e of sorted) {
    const f = engine.evaluate(e, ctx);
    if (f.length) findings.set(e.id, f);
  }
  return { findings, state, engine };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

const TEMPLATE = JSON.parse(
  readFileSync(join(ROOT, 'test/fixtures/watch/get-secret-value.json'), 'utf8'),
) as Record<string, unknown>;

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');

/**
 * A CloudTrail record from the fixture, with its own event id, time, role and secret. `service` picks
 * the event source: secretsmanager (GetSecretValue), kms (Decrypt) or ssm (GetParameter).
 */
export function trailRecord(opts: {
  n: number;
  time: number;
  role?: string;
  secret?: string;
  service?: 'secretsmanager' | 'kms' | 'ssm';
}): Record<string, unknown> {
  const rec = structuredClone(TEMPLATE);
  const role = opts.role ?? 'orders-api';
  const service = opts.service ?? 'secretsmanager';
  rec.eventID = `9b1e3c7a-0000-4000-8000-${hex(opts.n, 12)}`;
  rec.requestID = `3f1f1c2e-0000-4000-8000-${hex(opts.n, 12)}`;
  rec.eventTime = new Date(opts.time).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const id = rec.userIdentity as Record<string, unknown>;
  id.arn = `arn:aws:sts::111122223333:assumed-role/${role}/session-${opts.n}`;
  const issuer = (id.sessionContext as { sessionIssuer: Record<string, unknown> }).sessionIssuer;
  issuer.arn = `arn:aws:iam::111122223333:role/${role}`;
  issuer.userName = role;
  issuer.principalId = `AROA${role.toUpperCase().replace(/[^A-Z]/g, '')}`;
  id.principalId = `${issuer.principalId}:session-${opts.n}`;
  const secret = opts.secret ?? 'prod/orders/db';
  rec.eventSource = `${service}.amazonaws.com`;
  if (service === 'secretsmanager') {
    rec.requestParameters = { secretId: secret };
    rec.resources = [
      {
        accountId: '111122223333',
        type: 'AWS::SecretsManager::Secret',
        ARN: `arn:aws:secretsmanager:us-east-1:111122223333:secret:${secret}-AbCdEf`,
      },
    ];
  } else if (service === 'ssm') {
    rec.eventName = 'GetParameter';
    rec.requestParameters = { name: `/${secret}`, withDecryption: true };
    rec.resources = null;
  } else {
    rec.eventName = 'Decrypt';
    rec.requestParameters = { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    rec.resources = [
      {
        accountId: '111122223333',
        type: 'AWS::KMS::Key',
        ARN: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
    ];
  }
  return rec;
}

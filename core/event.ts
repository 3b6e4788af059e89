import { z } from 'zod';

/**
 * The normalized secret-access event: one record of one provider's audit log, reduced to what
 * detectors and auditors need. Documented in docs/events.md; every source produces exactly this.
 */

export const Provider = z.enum(['aws', 'azure', 'gcp', 'vault']);
export type Provider = z.infer<typeof Provider>;

/** A small, provider-neutral vocabulary of what the call did to the secret, key or store. */
export const Action = z.enum([
  'read', // the secret value (or a decrypted parameter) was returned
  'decrypt', // a key was used to decrypt, unwrap or derive
  'encrypt', // a key was used to encrypt, sign, wrap or generate a data key
  'list', // enumeration of secrets, keys or versions
  'describe', // metadata read without the value
  'write', // a new value or version, or a metadata change
  'create',
  'delete',
  'restore', // restore from deletion or backup, cancel deletion
  'backup',
  'rotate',
  'policy', // resource policy, access policy, grants, network rules
  'disable', // key or secret disabled, deletion scheduled
  'other',
]);
export type Action = z.infer<typeof Action>;

export const Outcome = z.enum(['success', 'denied', 'error']);
export type Outcome = z.infer<typeof Outcome>;

export const PrincipalType = z.enum([
  'root',
  'user', // an IAM user, an Entra user, a GCP user, a Vault user
  'person', // a person signed in through a role (IAM Identity Center, SAML, web identity)
  'role', // a workload role: sessions collapse into the role
  'service', // a cloud service acting for itself (AWS service principal, "AWS Internal")
  'application', // an Entra application / service principal
  'managed-identity',
  'service-account', // GCP service account
  'token', // a Vault token without an entity
  'anonymous',
  'unknown',
]);
export type PrincipalType = z.infer<typeof PrincipalType>;

export const Principal = z.object({
  /** Stable id of the real actor, the same across formats and sessions of a workload role. */
  id: z.string().min(1),
  type: PrincipalType,
  /** Human-readable name: role name, user name, upn, service account email. */
  name: z.string(),
  /** Account, subscription, tenant or project the principal lives in, when known. */
  account: z.string().nullable(),
  /** The role or identity the principal acted through, e.g. the permission-set role of a person. */
  via: z.string().nullable().optional(),
  /** Session name of an assumed role, kept for investigation; not part of `id` for workload roles. */
  session: z.string().nullable().optional(),
});
export type Principal = z.infer<typeof Principal>;

export const ResourceType = z.enum(['secret', 'parameter', 'key', 'certificate', 'vault', 'other']);
export type ResourceType = z.infer<typeof ResourceType>;

export const Resource = z.object({
  /** Canonical id: one per secret whatever name or ARN form the caller used. */
  id: z.string().min(1),
  type: ResourceType,
  /** Short readable name (secret name, parameter path, key alias or id, vault/secret). */
  name: z.string(),
  account: z.string().nullable(),
  region: z.string().nullable(),
});
export type Resource = z.infer<typeof Resource>;

export const EventSource = z.object({
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  /** The cloud service that made this call on the principal's behalf, e.g. `secretsmanager.amazonaws.com`. */
  viaService: z.string().nullable(),
  vpcEndpointId: z.string().nullable().optional(),
});
export type EventSource = z.infer<typeof EventSource>;

export const SecretAccessEvent = z.object({
  /** Stable: re-reading the same record yields the same id. */
  id: z.string().min(1),
  /** ISO 8601 UTC, millisecond precision. */
  time: z.iso.datetime(),
  provider: Provider,
  /** e.g. secretsmanager, ssm, kms, keyvault, secretmanager, vault */
  service: z.string().min(1),
  /** The provider's own operation name, e.g. GetSecretValue, SecretGet. */
  operation: z.string().min(1),
  action: Action,
  outcome: Outcome,
  errorCode: z.string().nullable(),
  principal: Principal,
  resource: Resource.nullable(),
  source: EventSource,
  region: z.string().nullable(),
  /** The account, subscription or project the log came from. */
  account: z.string().nullable(),
  /** The provider's own event or request id, when it has one. */
  providerEventId: z.string().nullable(),
  /** For a key operation: the canonical id of the secret or parameter it served (KMS encryption context). */
  relatedResource: z.string().nullable().optional(),
  /** Request flags that rules read (withDecryption, forceDeleteWithoutRecovery, a resource policy document). */
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type SecretAccessEvent = z.infer<typeof SecretAccessEvent>;

export const Severity = z.enum(['low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;
export const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/**
 * Whether the event is a read of secret material by the principal itself: the reads that baselines
 * count. A Decrypt that a service made for a read is part of that read, not a second one; a batch call's
 * per-secret events are counted through the GetSecretValue records logged beside them.
 */
export function isSecretRead(
  e: Pick<SecretAccessEvent, 'action' | 'source' | 'resource' | 'details'>,
): boolean {
  // Secrets Manager logs a GetSecretValue for each secret of a BatchGetSecretValue: count those, once.
  return (
    e.action === 'read' &&
    e.resource !== null &&
    e.source.viaService === null &&
    e.details?.batchCall !== true
  );
}

/** "00" to "99", and "000" to "999": the fields of a time, without padding per call. */
const DIGITS2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const DIGITS3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** The day `timeText` formatted last: its first millisecond and `YYYY-MM-DDT`. */
let textDay = Number.NaN;
let textDayPrefix = '';

/**
 * An event time from milliseconds, exactly as `new Date(ms).toISOString()` writes it: the inverse of
 * `eventTime`. Detection turns every stored event back into an object, and events come day by day, so
 * the date is formatted once per day and the clock from tables; anything unusual goes to Date.
 */
export function timeText(ms: number): string {
  let rest = ms - textDay;
  if (!(rest >= 0 && rest < 86_400_000 && Number.isInteger(ms))) {
    // Years 0000 to 9999 only: others are written with a sign and six digits.
    if (!(Number.isInteger(ms) && ms >= -62_167_219_200_000 && ms < 253_402_300_800_000))
      return new Date(ms).toISOString();
    textDay = ms - (((ms % 86_400_000) + 86_400_000) % 86_400_000);
    textDayPrefix = new Date(textDay).toISOString().slice(0, 11);
    rest = ms - textDay;
  }
  const s = Math.floor(rest / 1000);
  return `${textDayPrefix}${DIGITS2[Math.floor(s / 3600)]}:${DIGITS2[Math.floor(s / 60) % 60]}:${DIGITS2[s % 60]}.${DIGITS3[rest - s * 1000]}Z`;
}

/**
 * Milliseconds of an event time. Normalized times are always `YYYY-MM-DDTHH:MM:SS.mmmZ`, which this
 * reads with arithmetic (Date.parse costs several times more, and detection reads every event's time);
 * anything else goes to Date.parse.
 */
export function eventTime(iso: string): number {
  if (iso.length !== 24 || iso.charCodeAt(23) !== 90 || iso.charCodeAt(10) !== 84) return Date.parse(iso);
  // No inner helper: this runs for every event, and a closure per call costs more than the arithmetic.
  const y =
    iso.charCodeAt(0) * 1000 + iso.charCodeAt(1) * 100 + iso.charCodeAt(2) * 10 + iso.charCodeAt(3) - 53_328;
  const m = iso.charCodeAt(5) * 10 + iso.charCodeAt(6) - 528;
  const d = iso.charCodeAt(8) * 10 + iso.charCodeAt(9) - 528;
  // Days from the civil date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const days = era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
  const ms =
    days * 86_400_000 +
    (iso.charCodeAt(11) * 10 + iso.charCodeAt(12) - 528) * 3_600_000 +
    (iso.charCodeAt(14) * 10 + iso.charCodeAt(15) - 528) * 60_000 +
    (iso.charCodeAt(17) * 10 + iso.charCodeAt(18) - 528) * 1000 +
    iso.charCodeAt(20) * 100 +
    iso.charCodeAt(21) * 10 +
    iso.charCodeAt(22) -
    5328;
  return Number.isNaN(ms) ? Date.parse(iso) : ms;
}

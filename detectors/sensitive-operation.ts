import { z } from 'zod';
import type { SecretAccessEvent, Severity } from '../core/event.js';
import { HOUR } from './baseline.js';
import { defineDetector, type Finding } from './detector.js';

/** One rule: a named, documented pattern on a single event. No history needed. */
interface Rule {
  readonly id: string;
  /** Returns a sentence when the event matches, with the severity; null otherwise. */
  match(e: SecretAccessEvent): { severity: Severity; why: string } | null;
}

function flag(e: SecretAccessEvent, key: string): boolean {
  const v = e.details?.[key];
  return v === true || v === 'true';
}

interface Statement {
  Effect?: string;
  Principal?: unknown;
  Condition?: unknown;
}

/** Who a resource or key policy lets in beyond its own account: `*` or other account ids. */
export function policyGrants(
  policy: string,
  ownAccount: string | null,
): { wildcard: boolean; conditioned: boolean; accounts: string[] } {
  let doc: { Statement?: Statement | Statement[] };
  try {
    doc = JSON.parse(policy);
  } catch {
    // An unparsable policy is reported as such by the rule, not guessed at.
    return { wildcard: false, conditioned: false, accounts: [] };
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  let wildcard = false;
  let conditioned = true;
  const accounts = new Set<string>();
  for (const s of statements) {
    if (s.Effect !== 'Allow') continue;
    const principals: string[] = [];
    const p = s.Principal;
    if (typeof p === 'string') principals.push(p);
    else if (p && typeof p === 'object') {
      for (const v of Object.values(p as Record<string, unknown>)) {
        if (typeof v === 'string') principals.push(v);
        else if (Array.isArray(v)) principals.push(...v.filter((x): x is string => typeof x === 'string'));
      }
    }
    for (const pr of principals) {
      if (pr === '*') {
        wildcard = true;
        if (!s.Condition) conditioned = false;
        continue;
      }
      const acct = /^(\d{12})$/.exec(pr)?.[1] ?? /^arn:aws[\w-]*:iam::(\d{12}):/.exec(pr)?.[1];
      if (acct && acct !== ownAccount) accounts.add(acct);
    }
  }
  return { wildcard, conditioned: wildcard && conditioned, accounts: [...accounts] };
}

export const RULES: readonly Rule[] = [
  {
    id: 'delete-without-recovery',
    match: (e) =>
      e.operation === 'DeleteSecret' && flag(e, 'forceDeleteWithoutRecovery')
        ? { severity: 'high', why: 'deleted the secret with ForceDeleteWithoutRecovery: no recovery window' }
        : null,
  },
  {
    id: 'purge',
    // AuditEvent names (`SecretPurge`, `KeyPurge`) and the Activity Log's (`.../DELETEDVAULTS/PURGE/ACTION`).
    match: (e) =>
      e.provider === 'azure' && (/Purge$/.test(e.operation) || /\/purge\/action$/i.test(e.operation))
        ? { severity: 'high', why: `${e.operation}: permanently erased a soft-deleted object` }
        : null,
  },
  {
    id: 'vault-delete',
    // The AuditEvent's `VaultDelete`, and the Activity Log's delete of a vault or a Managed HSM.
    match: (e) =>
      e.operation === 'VaultDelete' ||
      (e.provider === 'azure' && /^microsoft\.keyvault\/(vaults|managedhsms)\/delete$/i.test(e.operation))
        ? {
            severity: 'high',
            why: /managedhsms/i.test(e.operation)
              ? 'deleted the whole Managed HSM'
              : 'deleted the whole key vault',
          }
        : null,
  },
  {
    id: 'policy-opens-access',
    match: (e) => {
      if (!/^(PutResourcePolicy|PutKeyPolicy|CreateKey)$/.test(e.operation)) return null;
      const text = e.details?.resourcePolicy ?? e.details?.policy;
      if (typeof text !== 'string') return null;
      const g = policyGrants(text, e.resource?.account ?? e.account);
      if (g.wildcard && !g.conditioned)
        return {
          severity: 'critical',
          why: `${e.operation} grants access to any principal ("*") without a condition`,
        };
      if (g.wildcard) return { severity: 'high', why: `${e.operation} grants "*" (limited by a condition)` };
      if (g.accounts.length)
        return {
          severity: 'high',
          why: `${e.operation} grants external account${g.accounts.length > 1 ? 's' : ''} ${g.accounts.join(', ')}`,
        };
      return null;
    },
  },
  {
    id: 'iam-policy-public',
    // A GCP secret's IAM policy granting anyone (allUsers) or any Google account (allAuthenticatedUsers).
    match: (e) => {
      if (e.operation !== 'SetIamPolicy') return null;
      const members = e.details?.members;
      if (typeof members !== 'string') return null;
      const open = members.split(',').filter((m) => m === 'allUsers' || m === 'allAuthenticatedUsers');
      return open.length
        ? {
            severity: 'critical',
            why: `SetIamPolicy grants ${open.join(' and ')}: anyone can use the secret`,
          }
        : null;
    },
  },
  {
    id: 'public-policy-allowed',
    match: (e) =>
      e.operation === 'PutResourcePolicy' && e.details?.blockPublicPolicy === false
        ? { severity: 'medium', why: 'PutResourcePolicy with BlockPublicPolicy turned off' }
        : null,
  },
  {
    id: 'key-deletion',
    match: (e) =>
      e.service === 'kms' && e.operation === 'ScheduleKeyDeletion'
        ? {
            severity: 'high',
            why: `scheduled deletion of a KMS key (${e.details?.pendingWindowInDays ?? 30} days): every secret it encrypts becomes unreadable`,
          }
        : null,
  },
  {
    id: 'key-disabled',
    match: (e) =>
      e.service === 'kms' && e.operation === 'DisableKey'
        ? { severity: 'high', why: 'disabled a KMS key: the secrets it encrypts cannot be read' }
        : null,
  },
  {
    id: 'rotation-cancelled',
    match: (e) =>
      e.operation === 'CancelRotateSecret'
        ? { severity: 'medium', why: "cancelled the secret's rotation" }
        : null,
  },
  {
    id: 'rotation-failed',
    match: (e) =>
      /^(Test)?Rotation(Failed|Abandoned)$/.test(e.operation)
        ? { severity: 'medium', why: `${e.operation}: the secret was not rotated` }
        : null,
  },
  {
    id: 'backup',
    match: (e) =>
      e.action === 'backup'
        ? {
            severity: 'high',
            why: `${e.operation}: the object left the vault as a backup blob that restores elsewhere`,
          }
        : null,
  },
  {
    id: 'restore-from-backup',
    match: (e) =>
      /^(Secret|Key|Certificate)Restore$/.test(e.operation)
        ? { severity: 'medium', why: `${e.operation}: an object was restored from a backup blob` }
        : null,
  },
];

const Config = z.strictObject({
  /** Rule ids to turn off, e.g. ["rotation-failed"] where rotation alerts go elsewhere. */
  disable: z.array(z.enum(RULES.map((r) => r.id) as [string, ...string[]])).default([]),
});

// Service notifications (RotationFailed) are issued by the service itself: those pass on any outcome.
const SERVICE_EVENTS = /^(Test)?Rotation/;

export const sensitiveOperation = defineDetector({
  id: 'sensitive-operation',
  title: 'Destructive or exposing operation on a secret or key',
  severity: 'high',
  runbook:
    'Confirm the change with whoever made it (a change ticket, a deploy). An unexplained delete, purge, key ' +
    'disable or a policy opened to "*" or another account is an attack on availability or an exfiltration ' +
    'path: revert it (RestoreSecret, CancelKeyDeletion, EnableKey, remove the policy), then revoke the ' +
    "principal's sessions.",
  config: Config,
  groupWindowMs: HOUR,
  create(config: z.infer<typeof Config>) {
    const rules = RULES.filter((r) => !config.disable.includes(r.id));
    return {
      evaluate(event: SecretAccessEvent): Finding[] {
        if (event.outcome !== 'success' && !SERVICE_EVENTS.test(event.operation)) return [];
        for (const rule of rules) {
          const m = rule.match(event);
          if (!m) continue;
          const target = event.resource?.name ?? 'the store';
          return [
            {
              severity: m.severity,
              title: `${event.principal.name}: ${event.operation} on ${target}`,
              principal: event.principal,
              resource: event.resource,
              event,
              evidence: {
                summary: `${event.principal.name} ${m.why} (${target}, ${event.time}); rule ${rule.id} alerts on 1 occurrence`,
                observed: {
                  rule: rule.id,
                  operation: event.operation,
                  secret: event.resource?.id ?? null,
                  ip: event.source.ip,
                },
                baseline: null,
                threshold: { rule: rule.id, occurrences: 1 },
              },
            },
          ];
        }
        return [];
      },
    };
  },
});

import type { Alert } from '../core/alert.js';
import type { Suppression } from './config.js';
import { globMatch } from './kinds.js';
import { RangeSet } from './network.js';

/** A suppression rule compiled once; `match` is pure. */
export interface CompiledSuppression {
  readonly rule: Suppression;
  readonly expiresAt: number;
  readonly network: RangeSet | null;
}

export function compileSuppressions(rules: readonly Suppression[]): CompiledSuppression[] {
  return rules.map((rule) => ({
    rule,
    // A bare date expires at the end of that day, UTC.
    expiresAt: /^\d{4}-\d{2}-\d{2}$/.test(rule.expires)
      ? Date.parse(`${rule.expires}T00:00:00Z`) + 86_400_000
      : Date.parse(rule.expires),
    network: rule.network ? new RangeSet([rule.network]) : null,
  }));
}

function matchesOne(s: CompiledSuppression, alert: Alert): boolean {
  const r = s.rule;
  // Event time, not wall-clock time: replaying old logs gives the same answer.
  if (Date.parse(alert.time) >= s.expiresAt) return false;
  if (r.detector && r.detector !== alert.detector) return false;
  if (
    r.principal &&
    !globMatch(r.principal, alert.principal.id) &&
    !globMatch(r.principal, alert.principal.name)
  )
    return false;
  if (r.secret) {
    const ids = alert.resources.length ? alert.resources : alert.resource ? [alert.resource.id] : [];
    const names = new Map<string, string>();
    if (alert.resource) names.set(alert.resource.id, alert.resource.name);
    if (ids.length === 0) return false;
    const ok = ids.every((id) => globMatch(r.secret!, id) || globMatch(r.secret!, names.get(id) ?? ''));
    if (!ok) return false;
  }
  if (s.network) {
    const ip = alert.evidence.observed.ip;
    if (typeof ip !== 'string' || !s.network.has(ip)) return false;
  }
  return true;
}

/** The first rule that silences this alert, or null. Suppressed alerts are still stored and counted. */
export function suppressionFor(alert: Alert, rules: readonly CompiledSuppression[]): Suppression | null {
  for (const s of rules) if (matchesOne(s, alert)) return s.rule;
  return null;
}

/** What the store records in the alert's `suppressed` column. */
export function suppressionLabel(s: Suppression): string {
  return `${s.reason} (until ${s.expires})`;
}

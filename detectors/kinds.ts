import type { PrincipalType, Severity } from '../core/event.js';

/** Principal kinds detectors reason about: workloads are predictable, people explore. */
const WORKLOAD: ReadonlySet<PrincipalType> = new Set([
  'role',
  'service-account',
  'managed-identity',
  'application',
]);
const PEOPLE: ReadonlySet<PrincipalType> = new Set(['user', 'person']);

export function isWorkload(t: string): boolean {
  return WORKLOAD.has(t as PrincipalType);
}

export function isPerson(t: string): boolean {
  return PEOPLE.has(t as PrincipalType);
}

/** Cloud services acting for themselves are not actors whose habits we learn. */
export function isServicePrincipal(t: string): boolean {
  return t === 'service';
}

const ORDER: Severity[] = ['low', 'medium', 'high', 'critical'];
export function raise(s: Severity, by = 1): Severity {
  return ORDER[Math.min(ORDER.length - 1, Math.max(0, ORDER.indexOf(s) + by))]!;
}

/** `*` glob match, case-insensitive. */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern.toLowerCase() === value.toLowerCase();
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return re.test(value);
}

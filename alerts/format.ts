import type { Alert } from '../core/alert.js';

/** Plain-text rendering shared by people-facing sinks. Pure. */
export function alertLines(a: Alert): string[] {
  const when = a.time === a.lastTime ? a.time : `${a.time} .. ${a.lastTime}`;
  const lines = [
    `[${a.severity.toUpperCase()}] ${a.title}`,
    `  detector:  ${a.detector}`,
    `  principal: ${a.principal.name} (${a.principal.type}, ${a.principal.id})`,
  ];
  if (a.resource) lines.push(`  secret:    ${a.resource.name} (${a.resource.id})`);
  if (a.resources.length > 1)
    lines.push(
      `  secrets:   ${a.resources.length} (${a.resources.slice(0, 5).join(', ')}${a.resources.length > 5 ? ', …' : ''})`,
    );
  lines.push(`  when:      ${when}${a.count > 1 ? ` (${a.count} events)` : ''}`);
  lines.push(`  evidence:  ${a.evidence.summary}`);
  lines.push(`  runbook:   ${a.runbook}`);
  lines.push(`  query:     ${a.query}`);
  return lines;
}

import { azureActivity } from './azure-activity.js';
import { azureActivityLogAnalytics } from './azure-activity-loganalytics.js';
import { cloudtrail } from './cloudtrail.js';
import { cloudtrailLogAnalytics } from './cloudtrail-loganalytics.js';
import { gcpAudit } from './gcp-audit.js';
import { gcpAuditLogAnalytics } from './gcp-audit-loganalytics.js';
import { keyvault } from './keyvault.js';
import { keyvaultLogAnalytics } from './keyvault-loganalytics.js';
import type { Source } from './source.js';
import { vaultAudit } from './vault-audit.js';
import { vigilEvent } from './vigil-event.js';

/** Every source, in the order records are offered to them. Add a source here with one line. */
export const SOURCES: readonly Source[] = [
  cloudtrail,
  keyvault,
  azureActivity,
  azureActivityLogAnalytics,
  cloudtrailLogAnalytics,
  gcpAuditLogAnalytics,
  keyvaultLogAnalytics,
  gcpAudit,
  vaultAudit,
  vigilEvent,
];

export function sourceById(id: string): Source | undefined {
  return SOURCES.find((s) => s.id === id);
}

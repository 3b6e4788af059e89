import { isIP } from 'node:net';
import type { Action, Provider, SecretAccessEvent } from '../core/event.js';

/**
 * A normalized event as an OCSF 1.1 API Activity event (class 6003, category 6 Application Activity),
 * so `vigil normalize --ocsf` output drops into Amazon Security Lake or any OCSF-speaking SIEM. Pure.
 * https://schema.ocsf.io/1.1.0/classes/api_activity
 */

export const OCSF_VERSION = '1.1.0';
const CLASS_UID = 6003;
const CATEGORY_UID = 6;

// API Activity activity_id: 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other.
const ACTIVITY: Record<Action, { id: number; name: string }> = {
  read: { id: 2, name: 'Read' },
  describe: { id: 2, name: 'Read' },
  list: { id: 2, name: 'Read' },
  decrypt: { id: 2, name: 'Read' },
  create: { id: 1, name: 'Create' },
  write: { id: 3, name: 'Update' },
  rotate: { id: 3, name: 'Update' },
  policy: { id: 3, name: 'Update' },
  disable: { id: 3, name: 'Update' },
  restore: { id: 3, name: 'Update' },
  delete: { id: 4, name: 'Delete' },
  encrypt: { id: 99, name: 'Other' },
  backup: { id: 99, name: 'Other' },
  other: { id: 99, name: 'Other' },
};

const CLOUD: Record<Provider, string> = { aws: 'AWS', azure: 'Azure', gcp: 'GCP', vault: 'HashiCorp Vault' };

// OCSF user type_id: 1 User, 2 Admin, 3 System, 99 Other, 0 Unknown.
function userType(t: SecretAccessEvent['principal']['type']): { type_id: number; type: string } {
  if (t === 'user' || t === 'person') return { type_id: 1, type: 'User' };
  if (t === 'root') return { type_id: 2, type: 'Admin' };
  if (t === 'service') return { type_id: 3, type: 'System' };
  if (t === 'unknown' || t === 'anonymous') return { type_id: 0, type: 'Unknown' };
  return { type_id: 99, type: 'Other' };
}

export type OcsfApiActivity = Record<string, unknown> & {
  class_uid: 6003;
  activity_id: number;
  type_uid: number;
  time: number;
};

export function toOcsf(e: SecretAccessEvent): OcsfApiActivity {
  const activity = ACTIVITY[e.action];
  const ok = e.outcome === 'success';
  const ip = e.source.ip && isIP(e.source.ip) ? e.source.ip : null;
  const src: Record<string, unknown> = {};
  if (ip) src.ip = ip;
  else if (e.source.ip) src.svc_name = e.source.ip; // a service host name or `AWS Internal`
  if (e.source.vpcEndpointId) src.uid = e.source.vpcEndpointId;
  return {
    class_uid: CLASS_UID,
    class_name: 'API Activity',
    category_uid: CATEGORY_UID,
    category_name: 'Application Activity',
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: CLASS_UID * 100 + activity.id,
    type_name: `API Activity: ${activity.name}`,
    time: Date.parse(e.time),
    severity_id: 1,
    severity: 'Informational',
    status_id: ok ? 1 : 2,
    status: ok ? 'Success' : 'Failure',
    ...(e.errorCode ? { status_code: e.errorCode } : {}),
    ...(e.outcome === 'denied' ? { status_detail: 'denied' } : {}),
    metadata: {
      version: OCSF_VERSION,
      uid: e.id,
      ...(e.providerEventId ? { original_uid: e.providerEventId } : {}),
      product: { name: 'vigil', vendor_name: 'vigil', feature: { name: e.service } },
      profiles: ['cloud'],
    },
    api: {
      operation: e.operation,
      service: { name: e.service },
      ...(e.providerEventId ? { request: { uid: e.providerEventId } } : {}),
    },
    actor: {
      user: {
        uid: e.principal.id,
        name: e.principal.name,
        ...userType(e.principal.type),
        ...(e.principal.account ? { account: { uid: e.principal.account } } : {}),
      },
      ...(e.source.viaService ? { invoked_by: e.source.viaService } : {}),
      ...(e.principal.session
        ? { session: { uid: e.principal.session, ...(e.principal.via ? { issuer: e.principal.via } : {}) } }
        : {}),
    },
    src_endpoint: src,
    ...(e.source.userAgent ? { http_request: { user_agent: e.source.userAgent } } : {}),
    resources: e.resource
      ? [
          {
            uid: e.resource.id,
            name: e.resource.name,
            type: e.resource.type,
            ...(e.resource.region ? { region: e.resource.region } : {}),
            ...(e.resource.account ? { owner: { account: { uid: e.resource.account } } } : {}),
          },
        ]
      : [],
    cloud: {
      provider: CLOUD[e.provider],
      ...(e.region ? { region: e.region } : {}),
      ...(e.account ? { account: { uid: e.account } } : {}),
    },
    unmapped: {
      vigil_action: e.action,
      vigil_outcome: e.outcome,
      ...(e.relatedResource ? { related_resource: e.relatedResource } : {}),
    },
  };
}

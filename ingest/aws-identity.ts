import type { Principal, PrincipalType, Resource } from '../core/event.js';

/** Identity and resource rules shared by every reader of CloudTrail records. Pure. */

export interface UserIdentity {
  type?: string | null | undefined;
  principalId?: string | null | undefined;
  arn?: string | null | undefined;
  accountId?: string | null | undefined;
  userName?: string | null | undefined;
  invokedBy?: string | null | undefined;
  sourceIdentity?: string | null | undefined;
  sessionContext?:
    | {
        sessionIssuer?: { type?: string | null; arn?: string | null; userName?: string | null } | null;
        sourceIdentity?: string | null;
        webIdFederationData?: { federatedProvider?: string | null } | null;
      }
    | null
    | undefined;
  onBehalfOf?: { userId?: string | null; identityStoreArn?: string | null } | null | undefined;
}

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

export function parseArn(arn: string): Arn | null {
  if (!arn.startsWith('arn:')) return null;
  const a = arn.indexOf(':', 4);
  const b = a < 0 ? -1 : arn.indexOf(':', a + 1);
  const c = b < 0 ? -1 : arn.indexOf(':', b + 1);
  const d = c < 0 ? -1 : arn.indexOf(':', c + 1);
  if (d < 0) return null;
  return {
    partition: arn.slice(4, a),
    service: arn.slice(a + 1, b),
    region: arn.slice(b + 1, c),
    account: arn.slice(c + 1, d),
    resource: arn.slice(d + 1),
  };
}

/** A service host name standing in for an address: `secretsmanager.amazonaws.com`, `AWS Internal`. */
export function isServiceHost(value: string | null | undefined): boolean {
  if (!value) return false;
  // An IPv4 address (most calls) ends in a digit; every form below ends in a letter.
  const last = value.charCodeAt(value.length - 1);
  if (last >= 48 && last <= 57) return false;
  return (
    value === 'AWS Internal' ||
    /\.amazonaws\.com$/i.test(value) ||
    /^[a-z0-9-]+\.amazonaws\.com\.cn$/i.test(value)
  );
}

// Role sessions named after a person: IAM Identity Center permission sets, SAML and OIDC federation.
const PERSON_ROLE = /^AWSReservedSSO_/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function roleFromAssumedArn(arn: Arn): { roleName: string; session: string } | null {
  // assumed-role/RoleName/session (the role path is not part of this ARN)
  const m = /^assumed-role\/([^/]+)\/(.+)$/.exec(arn.resource);
  if (!m) return null;
  return { roleName: m[1]!, session: m[2]! };
}

/**
 * One principal per real actor:
 * - workload role sessions (Lambda, ECS, EC2) collapse into the role: `arn:aws:iam::ACCT:role/NAME`;
 * - a role session that names a person (Identity Center, SAML, web identity, an e-mail, a source identity)
 *   stays a person: the session ARN, named after the person;
 * - services acting on their own are `aws:service:HOST`.
 */
export function awsPrincipal(u: UserIdentity | null | undefined, recipientAccount: string | null): Principal {
  if (!u) {
    return {
      id: `aws:unknown:${recipientAccount ?? 'unknown'}`,
      type: 'unknown',
      name: 'unknown',
      account: recipientAccount,
    };
  }
  const account = u.accountId ?? recipientAccount ?? null;
  const type = u.type ?? '';
  const arn = u.arn ? parseArn(u.arn) : null;

  if (type === 'Root' || (arn && arn.resource === 'root')) {
    return {
      id: `arn:${arn?.partition || 'aws'}:iam::${account ?? arn?.account ?? ''}:root`,
      type: 'root',
      name: 'root',
      account,
    };
  }
  if (arn?.resource.startsWith('assumed-role/')) {
    // An abridged ARN without a session name: the role still comes from it.
    const r = roleFromAssumedArn(arn) ?? { roleName: arn.resource.split('/')[1] ?? 'unknown', session: '' };
    const acct = arn.account || account;
    const roleId = `arn:${arn.partition}:iam::${acct}:role/${r.roleName}`;
    const sourceIdentity = u.sessionContext?.sourceIdentity ?? u.sourceIdentity ?? null;
    const onBehalf = u.onBehalfOf?.userId ?? null;
    const federated = Boolean(u.sessionContext?.webIdFederationData?.federatedProvider);
    const person =
      PERSON_ROLE.test(r.roleName) || EMAIL.test(r.session) || Boolean(sourceIdentity) || Boolean(onBehalf);
    if (person || (federated && EMAIL.test(r.session))) {
      const who = sourceIdentity ?? r.session;
      return {
        id: `arn:${arn.partition}:sts::${acct}:assumed-role/${r.roleName}/${who}`,
        type: 'person',
        name: who,
        account: acct,
        via: roleId,
        session: r.session,
      };
    }
    return { id: roleId, type: 'role', name: r.roleName, account: acct, via: null, session: r.session };
  }
  if (arn && arn.service === 'iam' && arn.resource.startsWith('user/')) {
    const name = arn.resource.slice(arn.resource.lastIndexOf('/') + 1);
    return {
      id: `arn:${arn.partition}:iam::${arn.account}:user/${name}`,
      type: 'user',
      name,
      account: arn.account,
    };
  }
  if (arn?.resource.startsWith('federated-user/')) {
    const name = arn.resource.slice('federated-user/'.length);
    return { id: u.arn!, type: 'person', name, account: arn.account };
  }
  if (type === 'IAMUser' && u.userName) {
    return {
      id: `arn:aws:iam::${account ?? ''}:user/${u.userName}`,
      type: 'user',
      name: u.userName,
      account,
    };
  }
  if (type === 'AWSService' || (!type && u.invokedBy) || (type === 'None' && u.invokedBy)) {
    const host = u.invokedBy ?? 'unknown-service';
    return { id: `aws:service:${host}`, type: 'service', name: host, account };
  }
  if (type === 'AWSAccount') {
    const pid = (u.principalId ?? '').split(':')[0] || 'account';
    return {
      id: `aws:account:${account ?? ''}/${pid}`,
      type: 'unknown',
      name: `account ${account ?? '?'}`,
      account,
    };
  }
  if (type === 'IdentityCenterUser' && u.onBehalfOf?.userId) {
    return {
      id: `aws:identitycenter:${u.onBehalfOf.userId}`,
      type: 'person',
      name: u.onBehalfOf.userId,
      account,
    };
  }
  if (u.arn) {
    return { id: u.arn, type: 'unknown', name: arn?.resource ?? u.arn, account };
  }
  if (u.principalId) {
    return { id: `aws:principal:${u.principalId}`, type: 'unknown', name: u.principalId, account };
  }
  return {
    id: `aws:unknown:${account ?? 'unknown'}`,
    type: 'unknown' as PrincipalType,
    name: 'unknown',
    account,
  };
}

/** The service that made the call on the principal's behalf, if any. */
export function viaService(
  u: UserIdentity | null | undefined,
  sourceIp: string | null | undefined,
): string | null {
  const by = u?.invokedBy;
  if (by && isServiceHost(by)) return by;
  if (sourceIp && isServiceHost(sourceIp)) return sourceIp;
  return null;
}

// Secrets Manager appends a hyphen and six random characters to a secret's name in its ARN. A partial
// ARN of a secret whose name ends in a six-letter word (`app-config`) looks the same: a suffix is
// taken as random only when it holds an upper-case letter or a digit and is not all digits, which
// 99.5 % of random suffixes do and few names do. https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen
const SECRET_SUFFIX = /-(?=[A-Za-z0-9]*[A-Z0-9])(?![0-9]{6}$)[A-Za-z0-9]{6}$/;

/**
 * Canonical secret id, the same for a name, a full ARN (with the random suffix) or a partial ARN:
 * `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`. `knownFullArns` are ARNs the record itself
 * reports as complete (its `resources`), which settles whether a trailing `-xxxxxx` is the suffix.
 */
export function secretResource(
  secretId: string,
  region: string | null,
  account: string | null,
  knownFullArns: readonly string[] = [],
): Resource {
  const arn = parseArn(secretId);
  if (arn && arn.service === 'secretsmanager' && arn.resource.startsWith('secret:')) {
    let name = arn.resource.slice('secret:'.length);
    if (knownFullArns.includes(secretId)) name = name.replace(/-[A-Za-z0-9]{6}$/, '');
    else name = name.replace(SECRET_SUFFIX, '');
    return {
      id: `arn:${arn.partition}:secretsmanager:${arn.region}:${arn.account}:secret:${name}`,
      type: 'secret',
      name,
      account: arn.account,
      region: arn.region,
    };
  }
  return {
    id: `arn:${partitionOf(region)}:secretsmanager:${region ?? ''}:${account ?? ''}:secret:${secretId}`,
    type: 'secret',
    name: secretId,
    account,
    region,
  };
}

/**
 * The partition of a region, for ids built from a name: a secret read by name in `cn-north-1` has the
 * same id as when read by its `arn:aws-cn:` ARN. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
 */
export function partitionOf(region: string | null): string {
  if (!region) return 'aws';
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  return 'aws';
}

/** Canonical SSM parameter id, for a name (`/app/db`, `app/db`, `name:3`, `name:label`) or an ARN. */
export function parameterResource(
  nameOrArn: string,
  region: string | null,
  account: string | null,
): Resource {
  const arn = parseArn(nameOrArn);
  let name: string;
  let reg = region;
  let acct = account;
  let partition = partitionOf(region);
  if (arn && arn.service === 'ssm' && arn.resource.startsWith('parameter')) {
    name = arn.resource.slice('parameter'.length);
    reg = arn.region || region;
    acct = arn.account || account;
    partition = arn.partition || partition;
  } else {
    name = nameOrArn;
  }
  name = name.replace(/:[^/:]*$/, ''); // version or label selector
  if (!name.startsWith('/')) name = `/${name}`;
  return {
    id: `arn:${partition}:ssm:${reg ?? ''}:${acct ?? ''}:parameter${name}`,
    type: 'parameter',
    name,
    account: acct,
    region: reg,
  };
}

/** Canonical KMS key (or alias) id: `arn:aws:kms:REGION:ACCOUNT:key/ID` or `...:alias/NAME`. */
export function kmsResource(keyIdOrArn: string, region: string | null, account: string | null): Resource {
  const arn = parseArn(keyIdOrArn);
  if (arn && arn.service === 'kms') {
    const name = arn.resource;
    return { id: keyIdOrArn, type: 'key', name, account: arn.account, region: arn.region };
  }
  const name = keyIdOrArn.startsWith('alias/') ? keyIdOrArn : `key/${keyIdOrArn}`;
  return {
    id: `arn:${partitionOf(region)}:kms:${region ?? ''}:${account ?? ''}:${name}`,
    type: 'key',
    name,
    account,
    region,
  };
}

const DENIED =
  /AccessDenied|Unauthorized|NotAuthorized|Forbidden|UnrecognizedClient|InvalidClientTokenId|ExpiredToken|AuthFailure|SignatureDoesNotMatch/i;

export function awsOutcome(errorCode: string | null | undefined): 'success' | 'denied' | 'error' {
  if (!errorCode) return 'success';
  return DENIED.test(errorCode) ? 'denied' : 'error';
}

import { redact } from '../../core/secret.js';

/** Why a poll failed, as far as the operator can act on it. */
export type FailureKind = 'credentials' | 'throttled' | 'network' | 'not-found' | 'error';

const CREDENTIALS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
]);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'ServiceUnavailableException',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
]);

const HINT: Record<FailureKind, string> = {
  credentials: 'credentials are missing, expired or not allowed: check the credential chain or the role',
  throttled: 'the API is throttling: backing off',
  network: 'cannot reach the endpoint: retrying',
  'not-found': 'the log group or path does not exist (yet): retrying',
  error: 'the request failed: retrying',
};

export interface Failure {
  readonly kind: FailureKind;
  /** The error's name or code, e.g. ExpiredTokenException. */
  readonly code: string;
  /** One line for the operator: what happened and what vigil does; URLs redacted. */
  readonly message: string;
}

/** Classifies a thrown SDK, network or file error. Never includes request bodies or credentials. */
export function classifyFailure(err: unknown): Failure {
  const e = err as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const name = e?.name ?? 'Error';
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const cause = (err as { cause?: { code?: string } })?.cause?.code;
  let kind: FailureKind = 'error';
  if (CREDENTIALS.has(name) || /credential|security token|expired/i.test(e?.message ?? ''))
    kind = 'credentials';
  else if (THROTTLED.has(name) || e?.$metadata?.httpStatusCode === 429) kind = 'throttled';
  else if (NETWORK.has(name) || NETWORK.has(code ?? '') || NETWORK.has(cause ?? '')) kind = 'network';
  else if (name === 'ResourceNotFoundException' || code === 'ENOENT') kind = 'not-found';
  const detail = redact(
    String(e?.message ?? err)
      .split('\n')[0]!
      .slice(0, 300),
  );
  return { kind, code: code ?? name, message: `${HINT[kind]} (${code ?? name}: ${detail})` };
}

import { readFile } from 'node:fs/promises';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import { once } from '../core/once.js';
import { SecretValue } from '../core/secret.js';

/**
 * Where a secret (a webhook URL, an HMAC key) comes from. The config holds the reference, never the value:
 * `env:NAME`, `file:PATH`, a Secrets Manager ARN (optionally `#jsonKey`), or the object forms
 * `{env}`, `{file}`, `{secretsManager, key?, ttl?}`. `{insecurePlaintext}` is for local testing only.
 */
export type SecretRef =
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'secretsManager'; readonly arn: string; readonly key?: string; readonly ttlMs?: number }
  | { readonly kind: 'plain'; readonly value: SecretValue };

const SM_ARN = /^arn:aws[\w-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$/;

const REFUSED =
  'is a secret and must not be written in the config file in clear; use env:NAME, file:PATH or a ' +
  'Secrets Manager ARN (or {insecurePlaintext: ...} for local testing only)';

function parseArn(text: string): { arn: string; key?: string } {
  const hash = text.indexOf('#');
  return hash < 0 ? { arn: text } : { arn: text.slice(0, hash), key: text.slice(hash + 1) };
}

/**
 * Schema of a secret reference. Errors never echo the value. With `plainAllowed`, a bare http(s) URL is
 * accepted as not secret (a generic webhook without a token) and still kept as a SecretValue.
 */
export function secretRef(options: { plainAllowed?: boolean } = {}) {
  return z.unknown().transform((raw, ctx): SecretRef => {
    const fail = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (typeof raw === 'string') {
      if (raw.startsWith('env:') && raw.length > 4) return { kind: 'env', name: raw.slice(4) };
      if (raw.startsWith('file:') && raw.length > 5) return { kind: 'file', path: raw.slice(5) };
      if (raw.startsWith('arn:')) {
        const { arn, key } = parseArn(raw);
        if (!SM_ARN.test(arn))
          return fail('not a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)');
        return key ? { kind: 'secretsManager', arn, key } : { kind: 'secretsManager', arn };
      }
      if (options.plainAllowed && /^https?:\/\/\S+$/i.test(raw))
        return { kind: 'plain', value: new SecretValue(raw) };
      return fail(REFUSED);
    }
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      const o = raw as Record<string, unknown>;
      const keys = Object.keys(o);
      const only = (...allowed: string[]) => keys.every((k) => allowed.includes(k));
      if (typeof o.env === 'string' && o.env && only('env')) return { kind: 'env', name: o.env };
      if (typeof o.file === 'string' && o.file && only('file')) return { kind: 'file', path: o.file };
      if (typeof o.insecurePlaintext === 'string' && o.insecurePlaintext && only('insecurePlaintext'))
        return { kind: 'plain', value: new SecretValue(o.insecurePlaintext) };
      if (typeof o.secretsManager === 'string' && only('secretsManager', 'key', 'ttl')) {
        if (!SM_ARN.test(o.secretsManager)) return fail('secretsManager: not a Secrets Manager secret ARN');
        if (o.key !== undefined && typeof o.key !== 'string') return fail('key: expected a string');
        let ttlMs: number | undefined;
        if (o.ttl !== undefined) {
          if (typeof o.ttl !== 'string') return fail('ttl: expected a duration like PT5M');
          try {
            ttlMs = parseDuration(o.ttl);
          } catch {
            return fail('ttl: expected a duration like PT5M');
          }
        }
        return {
          kind: 'secretsManager',
          arn: o.secretsManager,
          ...(o.key !== undefined ? { key: o.key as string } : {}),
          ...(ttlMs !== undefined ? { ttlMs } : {}),
        };
      }
      return fail(
        `expected one of {env}, {file}, {secretsManager, key?, ttl?}, {insecurePlaintext}; got fields ${keys.join(', ') || '(none)'}`,
      );
    }
    return fail(REFUSED);
  });
}

export type Resolved = { ok: true; value: SecretValue } | { ok: false; retryable: boolean; reason: string };

/** How Secrets Manager clients are made; tests point them at a local endpoint. */
export type SecretsManagerFactory = (region: string) => SecretsManagerClient;

export interface SecretResolverOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  /** How long a value read from Secrets Manager or a file is reused. Default 5 minutes. */
  readonly ttlMs?: number;
  readonly secretsManager?: SecretsManagerFactory;
}

// Secrets Manager errors that retrying will not fix. API reference, GetSecretValue "Errors".
const SM_PERMANENT = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'DecryptionFailure',
  'InvalidParameterException',
  'InvalidRequestException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
]);

/** The SDK, loaded on the first read from Secrets Manager (loading it costs every command about 0.1 s). */
const secretsManager = once(() => import('@aws-sdk/client-secrets-manager'));

/** Resolves secret references into SecretValues, caching file and Secrets Manager reads with a TTL. */
export class SecretResolver {
  readonly #cache = new Map<string, { value: SecretValue; until: number }>();
  readonly #clients = new Map<string, SecretsManagerClient>();
  readonly #options: SecretResolverOptions;

  constructor(options: SecretResolverOptions) {
    this.#options = options;
  }

  async #client(region: string): Promise<SecretsManagerClient> {
    let c = this.#clients.get(region);
    if (!c) {
      c =
        this.#options.secretsManager?.(region) ??
        new (await secretsManager()).SecretsManagerClient({ region, maxAttempts: 1 });
      this.#clients.set(region, c);
    }
    return c;
  }

  /** Forgets cached values, e.g. after a sink answered that its URL was revoked. */
  invalidate(): void {
    this.#cache.clear();
  }

  async resolve(ref: SecretRef, signal?: AbortSignal): Promise<Resolved> {
    if (ref.kind === 'plain') return { ok: true, value: ref.value };
    if (ref.kind === 'env') {
      const v = this.#options.env[ref.name];
      return v
        ? { ok: true, value: new SecretValue(v.trim()) }
        : { ok: false, retryable: false, reason: `environment variable ${ref.name} is not set` };
    }
    const cacheKey = ref.kind === 'file' ? `file:${ref.path}` : `sm:${ref.arn}#${ref.key ?? ''}`;
    const now = this.#options.clock.now();
    const hit = this.#cache.get(cacheKey);
    if (hit && hit.until > now) return { ok: true, value: hit.value };
    const got =
      ref.kind === 'file' ? await this.#readFile(ref.path) : await this.#readSecretsManager(ref, signal);
    if (got.ok) {
      const ttl =
        (ref.kind === 'secretsManager' ? ref.ttlMs : undefined) ?? this.#options.ttlMs ?? 5 * 60_000;
      this.#cache.set(cacheKey, { value: got.value, until: now + ttl });
    }
    return got;
  }

  async #readFile(path: string): Promise<Resolved> {
    try {
      const text = (await readFile(path, 'utf8')).trim();
      if (!text) return { ok: false, retryable: false, reason: `secret file ${path} is empty` };
      return { ok: true, value: new SecretValue(text) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return {
        ok: false,
        retryable: code === 'EMFILE' || code === 'EAGAIN',
        reason: `cannot read secret file ${path}: ${code}`,
      };
    }
  }

  async #readSecretsManager(
    ref: Extract<SecretRef, { kind: 'secretsManager' }>,
    signal?: AbortSignal,
  ): Promise<Resolved> {
    const region = SM_ARN.exec(ref.arn)?.[1] ?? 'us-east-1';
    let text: string | undefined;
    try {
      const client = await this.#client(region);
      const out = await client.send(
        new (await secretsManager()).GetSecretValueCommand({ SecretId: ref.arn }),
        signal ? { abortSignal: signal } : {},
      );
      text = out.SecretString;
    } catch (err) {
      // Only the error's name: AWS messages can quote request parameters.
      const name = (err as Error).name || 'Error';
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const permanent =
        SM_PERMANENT.has(name) ||
        (status !== undefined && status >= 400 && status < 500 && !/Throttl|TooMany/i.test(name));
      return { ok: false, retryable: !permanent, reason: `Secrets Manager ${ref.arn}: ${name}` };
    }
    if (!text) return { ok: false, retryable: false, reason: `Secrets Manager ${ref.arn}: no SecretString` };
    if (ref.key === undefined) return { ok: true, value: new SecretValue(text.trim()) };
    let value: unknown;
    try {
      value = (JSON.parse(text) as Record<string, unknown>)[ref.key];
    } catch {
      return {
        ok: false,
        retryable: false,
        reason: `Secrets Manager ${ref.arn}: SecretString is not JSON (key ${ref.key} requested)`,
      };
    }
    return typeof value === 'string' && value
      ? { ok: true, value: new SecretValue(value.trim()) }
      : { ok: false, retryable: false, reason: `Secrets Manager ${ref.arn}: no string field ${ref.key}` };
  }
}

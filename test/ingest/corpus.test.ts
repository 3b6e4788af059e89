import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SecretAccessEvent } from '../../core/event.js';
import { run } from './helpers.js';

/**
 * Every public sample in ../shared/samples (next to the repository) and what it must become. The samples
 * are read in place, never copied. A sample without an entry here fails the test: say what it becomes.
 */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SAMPLES = resolve(REPO, '..', 'shared', 'samples');
const present = existsSync(SAMPLES);

/** `Operation action outcome principalType[ via]`, one per event, in order. */
const signature = (e: SecretAccessEvent) =>
  `${e.operation} ${e.action} ${e.outcome} ${e.principal.type}${e.source.viaService ? ' via' : ''}`;

interface Expect {
  events: string[];
  /** Reasons, with a zod detail cut after the field name. */
  quarantined?: string[];
  skipped?: string[];
}

const NOT_LOGS: Record<string, string> = { 'SOURCES.md': 'the index of the samples, not a log' };

const GP = (n: number) => Array.from({ length: n }, () => 'GetParameters read success role');

const EXPECTED: Record<string, Expect> = {
  'azure-keyvault/activitylog/panther__azure_keyvault_certificate_accessed__certificate-accessed-successfully.json':
    { events: ['MICROSOFT.KEYVAULT/VAULTS/CERTIFICATES/READ describe success application'] },
  'azure-keyvault/activitylog/panther__azure_keyvault_certificate_accessed__certificate-read-with-succeeded-status.json':
    { events: ['MICROSOFT.KEYVAULT/VAULTS/CERTIFICATES/READ describe success application'] },
  'azure-keyvault/activitylog/panther__azure_keyvault_deleted__key-vault-deleted.json': {
    events: ['MICROSOFT.KEYVAULT/VAULTS/DELETE delete success unknown'],
  },
  'azure-keyvault/activitylog/panther__azure_keyvault_key_accessed_or_recovered__key-read-successfully.json':
    { events: ['MICROSOFT.KEYVAULT/VAULTS/KEYS/READ/ACTION describe success application'] },
  'azure-keyvault/activitylog/panther__azure_keyvault_key_accessed_or_recovered__key-recovered-successfully.json':
    { events: ['MICROSOFT.KEYVAULT/VAULTS/KEYS/RECOVER/ACTION restore success application'] },
  'azure-keyvault/activitylog/panther__azure_keyvault_key_accessed_or_recovered__key-restored-successfully.json':
    { events: ['MICROSOFT.KEYVAULT/VAULTS/KEYS/RESTORE/ACTION restore success unknown'] },
  'azure-keyvault/activitylog/panther__azure_keyvault_key_purged__key-purged.json': {
    events: ['MICROSOFT.KEYVAULT/VAULTS/KEYS/PURGE/ACTION delete success unknown'],
  },
  'azure-keyvault/activitylog/panther__azure_keyvault_purged__key-vault-purged-successfully.json': {
    events: ['MICROSOFT.KEYVAULT/LOCATIONS/DELETEDVAULTS/PURGE/ACTION delete success unknown'],
  },
  'azure-keyvault/activitylog/panther__azure_keyvault_secret_accessed_or_recovered__secret-accessed.json': {
    events: ['MICROSOFT.KEYVAULT/VAULTS/SECRETS/GETSECRET/ACTION read success application'],
  },
  'azure-keyvault/activitylog/panther__azure_keyvault_secret_accessed_or_recovered__soft-deleted-secret-recovered.json':
    { events: ['MICROSOFT.KEYVAULT/VAULTS/SECRETS/RECOVER/ACTION restore success application'] },
  'azure-keyvault/auditevent-partial/stratus__azure.impact.blob-ransomware-service-storage-cmk__KeyDelete.json':
    { events: [], quarantined: ['keyvault: time'] },
  'azure-keyvault/auditevent-records/msdocs__key-vault-general-logging__VaultGet.json': {
    events: ['VaultGet describe success user'],
  },
  'cloudtrail/awsdocs-ct__non-api-aws-service-events__L7__RotateKey.json': {
    events: ['RotateKey rotate success service via'],
  },
  'cloudtrail/awsdocs-kms__alias-ct__L13__GenerateDataKey.json': {
    events: ['GenerateDataKey encrypt success user'],
  },
  'cloudtrail/awsdocs-kms__ct-cancel-key-deletion__L5__CancelKeyDeletion.json': {
    events: ['CancelKeyDeletion restore success user'],
  },
  'cloudtrail/awsdocs-kms__ct-create-keystore__L5__CreateCustomKeyStore.json': {
    events: ['CreateCustomKeyStore write success user'],
  },
  'cloudtrail/awsdocs-kms__ct-createalias__L5__CreateAlias.json': {
    events: ['CreateAlias write success user'],
  },
  'cloudtrail/awsdocs-kms__ct-createkey__L143__CreateKey.json': { events: ['CreateKey create success user'] },
  'cloudtrail/awsdocs-kms__ct-createkey__L73__CreateKey.json': { events: ['CreateKey create success user'] },
  'cloudtrail/awsdocs-kms__ct-decrypt__L112__Decrypt.json': { events: ['Decrypt decrypt success user'] },
  'cloudtrail/awsdocs-kms__ct-decrypt__L161__Decrypt.json': { events: ['Decrypt decrypt success user via'] },
  'cloudtrail/awsdocs-kms__ct-decrypt__L215__Decrypt.json': { events: ['Decrypt decrypt error user via'] },
  'cloudtrail/awsdocs-kms__ct-delete-key__L42__DeleteKey.json': {
    events: ['DeleteKey delete success service via'],
  },
  'cloudtrail/awsdocs-kms__ct-delete-keystore__L5__DeleteCustomKeyStore.json': {
    events: ['DeleteCustomKeyStore delete success user'],
  },
  'cloudtrail/awsdocs-kms__ct-deletealias__L5__DeleteAlias.json': {
    events: ['DeleteAlias write success user'],
  },
  'cloudtrail/awsdocs-kms__ct-describe-keystores__L5__DescribeCustomKeyStores.json': {
    events: ['DescribeCustomKeyStores list success user'],
  },
  'cloudtrail/awsdocs-kms__ct-describekey__L5__DescribeKey.json': {
    events: ['DescribeKey describe success user'],
  },
  'cloudtrail/awsdocs-kms__ct-disablekey__L5__DisableKey.json': {
    events: ['DisableKey disable success user'],
  },
  'cloudtrail/awsdocs-kms__ct-disconnect-keystore__L5__DisconnectCustomKeyStore.json': {
    events: ['DisconnectCustomKeyStore write success user'],
  },
  'cloudtrail/awsdocs-kms__ct-enablekeyrotation__L5__EnableKeyRotation.json': {
    events: ['EnableKeyRotation rotate success user'],
  },
  'cloudtrail/awsdocs-kms__ct-generate-data-key-enclave__L9__GenerateDataKey.json': {
    events: ['GenerateDataKey encrypt success user'],
  },
  'cloudtrail/awsdocs-kms__ct-generatedatakey__L5__GenerateDataKey.json': {
    events: ['GenerateDataKey encrypt success user'],
  },
  'cloudtrail/awsdocs-kms__ct-generatedatakeypair__L5__GenerateDataKeyPair.json': {
    events: ['GenerateDataKeyPair encrypt success user'],
  },
  'cloudtrail/awsdocs-kms__ct-generatedatakeyplaintext__L5__GenerateDataKeyWithoutPlaintext.json': {
    events: ['GenerateDataKeyWithoutPlaintext encrypt error user'],
  },
  'cloudtrail/awsdocs-kms__ct-generatemac__L5__GenerateMac.json': {
    events: ['GenerateMac encrypt success user'],
  },
  'cloudtrail/awsdocs-kms__ct-getkeypolicy__L5__GetKeyPolicy.json': {
    events: ['GetKeyPolicy describe success user'],
  },
  'cloudtrail/awsdocs-kms__ct-getparametersforimport__L5__GetParametersForImport.json': {
    events: ['GetParametersForImport describe success user'],
  },
  'cloudtrail/awsdocs-kms__ct-listaliases__L5__ListAliases.json': {
    events: ['ListAliases list success user'],
  },
  'cloudtrail/awsdocs-kms__ct-listgrants__L5__ListGrants.json': { events: ['ListGrants list success user'] },
  'cloudtrail/awsdocs-kms__ct-reencrypt__L5__ReEncrypt.json': { events: ['ReEncrypt decrypt success user'] },
  'cloudtrail/awsdocs-kms__ct-retire-grant__L5__RetireGrant.json': {
    events: ['RetireGrant policy success user'],
  },
  'cloudtrail/awsdocs-kms__ct-rotatekey__L7__RotateKey.json': {
    events: ['RotateKey rotate success service via'],
  },
  'cloudtrail/awsdocs-kms__ct-schedule-key-deletion__L54__ScheduleKeyDeletion.json': {
    events: ['ScheduleKeyDeletion disable success user'],
  },
  'cloudtrail/awsdocs-kms__ct-schedule-key-deletion__L9__ScheduleKeyDeletion.json': {
    events: ['ScheduleKeyDeletion disable success user'],
  },
  'cloudtrail/awsdocs-kms__ct-sign__L7__Sign.json': { events: ['Sign encrypt success user'] },
  'cloudtrail/awsdocs-kms__ct-tagresource__L7__TagResource.json': {
    events: ['TagResource write success user'],
  },
  'cloudtrail/awsdocs-kms__ct-untagresource__L7__UntagResource.json': {
    events: ['UntagResource write success user'],
  },
  'cloudtrail/awsdocs-kms__ct-update-keystore__L5__UpdateCustomKeyStore.json': {
    events: ['UpdateCustomKeyStore write success user'],
  },
  'cloudtrail/awsdocs-kms__ct-update-primary-region__L50__UpdatePrimaryRegion.json': {
    events: ['UpdatePrimaryRegion write success user via'],
  },
  'cloudtrail/awsdocs-kms__ct-updatealias__L5__UpdateAlias.json': {
    events: ['UpdateAlias write success user'],
  },
  'cloudtrail/awsdocs-kms__ct-verify__L7__Verify.json': { events: ['Verify other success user'] },
  'cloudtrail/awsdocs-kms__deleting-keys-determining-usage__L24__GenerateDataKey.json': {
    events: ['GenerateDataKey encrypt success role via'],
  },
  'cloudtrail/awsdocs-kms__deleting-keys-determining-usage__L74__Decrypt.json': {
    events: ['Decrypt decrypt success role via'],
  },
  'cloudtrail/awsdocs-kms__kms-vpc-endpoint__L296__GenerateDataKey.json': {
    events: ['GenerateDataKey encrypt success user'],
  },
  'cloudtrail/awsdocs-kms__services-wm__L184__Encrypt.json': {
    events: ['Encrypt encrypt success service via'],
  },
  'cloudtrail/awsdocs-sm__retrieve-ct-entries__L132__RotationFailed.json': {
    events: ['RotationFailed rotate error service via'],
  },
  'cloudtrail/awsdocs-sm__security-encryption__L178__GenerateDataKey.json': {
    events: ['GenerateDataKey encrypt success role via'],
  },
  'cloudtrail/awsdocs-sm__security-encryption__L229__Decrypt.json': {
    events: ['Decrypt decrypt success role via'],
  },
  'cloudtrail/elastic__test-batch-get-secret-value-json.ndjson': {
    events: ['BatchGetSecretValue read success user', 'BatchGetSecretValue read success user'],
  },
  'cloudtrail/malformed/awsdocs-kms__ct-decrypt-enclave__L9.json.txt': {
    events: [],
    quarantined: ['document is not valid JSON'],
  },
  'cloudtrail/malformed/awsdocs-kms__ct-decrypt__L65.json.txt': {
    events: [],
    quarantined: ['document is not valid JSON'],
  },
  'cloudtrail/malformed/awsdocs-kms__ct-encrypt__L5.json.txt': {
    events: [],
    quarantined: ['document is not valid JSON'],
  },
  'cloudtrail/malformed/awsdocs-kms__ct-replicate-key__L7.json.txt': {
    events: [],
    quarantined: ['document is not valid JSON'],
  },
  'cloudtrail/panther__aws_cloudtrail_created__kms-decrypt-event.json': {
    events: ['Decrypt decrypt success role'],
  },
  'cloudtrail/panther__aws_imds_credential_exfiltration__aws-service-hostname-as-source-ip.json': {
    events: ['Decrypt decrypt success role via'],
  },
  'cloudtrail/panther__aws_kms_cmk_loss__kms-disable-key-error.json': {
    events: ['DisableKey disable error role'],
  },
  'cloudtrail/panther__aws_kms_cmk_loss__kms-key-disabled.json': {
    events: ['DisableKey disable success role'],
  },
  'cloudtrail/panther__aws_kms_cmk_loss__kms-key-non-deletion-event.json': {
    events: ['Decrypt decrypt success role'],
  },
  'cloudtrail/panther__aws_kms_cmk_loss__kms-key-scheduled-for-deletion-missing-resources.json': {
    events: ['ScheduleKeyDeletion disable success role'],
  },
  'cloudtrail/panther__aws_kms_cmk_loss__kms-key-scheduled-for-deletion.json': {
    events: ['ScheduleKeyDeletion disable success role'],
  },
  'cloudtrail/panther__aws_resource_made_public__kms-key-restricted-access-should-not-alert.json': {
    events: ['PutKeyPolicy policy success person'],
  },
  'cloudtrail/panther__aws_resource_made_public__multiple-conditions-all-restrictive-should-not-alert.json': {
    events: ['PutResourcePolicy policy success unknown'],
  },
  'cloudtrail/panther__aws_resource_made_public__secrets-manager-restricted-access-should-not-alert.json': {
    events: ['PutResourcePolicy policy success person'],
  },
  'cloudtrail/panther__aws_resource_made_public__wildcard-principal-no-conditions-should-alert.json': {
    events: ['PutKeyPolicy policy success unknown'],
  },
  'cloudtrail/panther__aws_secretsmanager_retrieve_secrets__getsecretvalue-denied.json': {
    events: ['GetSecretValue read denied person'],
  },
  'cloudtrail/panther__aws_secretsmanager_retrieve_secrets_batch__batchgetsecretvalue.json': {
    events: [],
    quarantined: ['cloudtrail: eventTime'],
  },
  'cloudtrail/panther__aws_secretsmanager_retrieve_secrets_catchall__batchgetsecretvalue-catch-all-with-other-filters.json':
    { events: [], quarantined: ['cloudtrail: eventTime'] },
  'cloudtrail/panther__aws_secretsmanager_retrieve_secrets_catchall__batchgetsecretvalue-catch-all.json': {
    events: [],
    quarantined: ['cloudtrail: eventTime'],
  },
  'cloudtrail/panther__aws_secretsmanager_retrieve_secrets_multiregion__batchgetsecretvalue-in-us-east-1.json':
    { events: [], quarantined: ['cloudtrail: eventTime'] },
  'cloudtrail/panther__aws_secretsmanager_retrieve_secrets_multiregion__non-batch-getsecretvalue-event-no-match.json':
    { events: [], quarantined: ['cloudtrail: eventTime'] },
  'cloudtrail/panther__aws_ssm_decrypt_ssm_params__accessed-parameters-aren-t-encrypted.json': {
    events: GP(11),
  },
  'cloudtrail/panther__aws_ssm_decrypt_ssm_params__multiple-secrets-accessed-in-same-event-with-prior-cached-pa.json':
    { events: GP(5) },
  'cloudtrail/panther__aws_ssm_decrypt_ssm_params__multiple-secrets-accessed-in-same-event.json': {
    events: GP(11),
  },
  'cloudtrail/panther__aws_ssm_decrypt_ssm_params__single-secret-accessed-in-single-event.json': {
    events: ['GetParameter read success role'],
  },
  'cloudtrail/panther__aws_ssm_decrypt_ssm_params__unrelated-event.json': {
    events: ['DescribeParameters list success role'],
  },
  'cloudtrail/panther__aws_unused_region__unauthorized-region-read-only.json': {
    events: ['Decrypt decrypt success role via'],
  },
  'cloudtrail-containers/cwlogs-subscription/aws-lambda-go__cloudwatch-logs-event.json': {
    events: [],
    skipped: ['log message is not JSON'],
  },
  'cloudtrail-containers/cwlogs-subscription/powertools__cloudWatchLogEventWithPolicyLevel.json': {
    events: [],
    skipped: ['log message is not JSON'],
  },
  'cloudtrail-containers/cwlogs-subscription/powertools__kinesisStreamCloudWatchLogsEvent.json': {
    events: [],
    skipped: ['log message is not JSON'],
  },
  'cloudtrail-containers/eventbridge/external-secrets-reloader__aws-sqs__PutSecretValue.json': {
    events: ['PutSecretValue write success unknown'],
  },
  'cloudtrail-containers/lookup-events/malformed/awsdocs-ct__view-cloudtrail-events-cli__L56.json.txt': {
    events: [],
    quarantined: ['document is not valid JSON'],
  },
  'cloudtrail-containers/s3-logfile/awsdocs-ct__cloudtrail-log-file-examples__L253.json': {
    events: [],
    skipped: ['other service: cloudtrail.amazonaws.com'],
  },
  'cloudtrail-containers/s3-logfile/awsdocs-ct__cloudtrail-log-file-examples__L285.json': {
    events: [],
    skipped: ['cloudtrail insight'],
  },
  'cloudtrail-containers/s3-logfile/awsdocs-ct__cloudtrail-log-file-examples__L44.json': {
    events: [],
    skipped: ['other service: ec2.amazonaws.com'],
  },
  'cloudtrail-containers/s3-logfile/awsdocs-kms__ct-ec2one__L7.json': {
    events: ['GenerateDataKeyWithoutPlaintext encrypt success user'],
    skipped: ['other service: ec2.amazonaws.com'],
  },
  'cloudtrail-containers/s3-logfile/awsdocs-kms__ct-ec2two__L11.json': {
    events: [
      'CreateGrant policy success user',
      'GenerateDataKeyWithoutPlaintext encrypt success user',
      'Decrypt decrypt success role',
    ],
    skipped: ['other service: ec2.amazonaws.com'],
  },
  'vault-audit/elastic__hashicorp_vault-test-audit__subset.ndjson': {
    events: ['update read denied anonymous', 'read data read success token'],
    skipped: ['vault request entry (its response entry is the event)', 'vault sys path'],
  },
};

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out;
}

describe.skipIf(!present)(`corpus: every sample in ${SAMPLES}`, () => {
  const all = present ? files(SAMPLES).map((f) => relative(SAMPLES, f)) : [];

  it('has an expectation for every sample file', () => {
    const missing = all.filter((f) => !(f in EXPECTED) && !(f in NOT_LOGS));
    expect(missing, 'samples with no expectation: add them to EXPECTED').toEqual([]);
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    it(file, async () => {
      const r = await run(join(SAMPLES, file));
      expect(r.events.map(signature)).toEqual(want.events);
      expect(r.quarantine.map((q) => q.reason.replace(/: Invalid input.*/, ''))).toEqual(
        want.quarantined ?? [],
      );
      expect([...r.stats.skipped.keys()]).toEqual(want.skipped ?? []);
      // Whatever a sample is, no record of it may be of a shape vigil does not know.
      for (const q of r.quarantine) expect(q.reason).not.toMatch(/^unknown record shape/);
    });
  }

  it('links the KMS calls Secrets Manager makes to the secret they served', async () => {
    const r = await run(join(SAMPLES, 'cloudtrail/awsdocs-sm__security-encryption__L229__Decrypt.json'));
    expect(r.events[0]!.source.viaService).toBe('secretsmanager.amazonaws.com');
    expect(r.events[0]!.relatedResource).toMatch(/^arn:aws:secretsmanager:[^:]+:\d+:secret:[^:]+$/);
  });

  it('expands the real BatchGetSecretValue record into its two secrets, suffixes removed', async () => {
    const r = await run(join(SAMPLES, 'cloudtrail/elastic__test-batch-get-secret-value-json.ndjson'));
    expect(r.events.map((e) => e.resource?.name)).toEqual(['MyTestSecret', 'DdApiKeySecret-aUFEgO4SmSGN']);
  });

  it('reads the Microsoft docs AuditEvent: URI-form claims, 7-digit time, vault from properties.id', async () => {
    const r = await run(
      join(SAMPLES, 'azure-keyvault/auditevent-records/msdocs__key-vault-general-logging__VaultGet.json'),
    );
    expect(r.events[0]).toMatchObject({
      time: '2016-01-05T01:32:01.269Z',
      resource: { id: 'azure:keyvault:contosokeyvault', type: 'vault' },
      principal: { type: 'user', name: 'username@outlook.com' },
    });
  });

  it('maps Activity Log secret reads onto the same resource ids as AuditEvent', async () => {
    const r = await run(
      join(
        SAMPLES,
        'azure-keyvault/activitylog/panther__azure_keyvault_secret_accessed_or_recovered__secret-accessed.json',
      ),
    );
    expect(r.events[0]!.resource?.id).toBe('azure:keyvault:myvault/secrets/database-password');
  });

  it('reads the EventBridge sample without userIdentity or eventSource', async () => {
    const r = await run(
      join(
        SAMPLES,
        'cloudtrail-containers/eventbridge/external-secrets-reloader__aws-sqs__PutSecretValue.json',
      ),
    );
    expect(r.events[0]).toMatchObject({
      service: 'secretsmanager',
      resource: { id: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/test-secret' },
    });
  });

  it('reads the Vault sample: kv v2 path to mount and secret, workload token collapsed', async () => {
    const r = await run(join(SAMPLES, 'vault-audit/elastic__hashicorp_vault-test-audit__subset.ndjson'));
    expect(r.events[1]).toMatchObject({
      resource: { id: 'vault:secret/apps/continuous-delivery/aws-bucket-sse-c' },
      principal: { id: 'vault:token:token-*-runner' },
    });
    expect(JSON.stringify(r.events)).not.toContain('hmac-sha256');
  });
});

if (!present) {
  describe('corpus', () => {
    it.skip(`skipped: ${SAMPLES} does not exist (the public samples sit next to the repository in development)`, () => {});
  });
}

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AlertsConfig } from '../alerts/config.js';
import { ConfigError } from '../core/errors.js';
import { DetectorsConfig, NetworkConfig, SuppressionsConfig } from '../detectors/config.js';

/** A live source as written in the config; its `type` selects the schema the rest is checked against. */
export const SourceConfig = z.looseObject({ type: z.string().min(1) });

/** The whole config file: one root schema composed of each part's own section. Documented in docs/config.md. */
export const RootConfig = z.strictObject({
  store: z
    .strictObject({ path: z.string().min(1).default('.vigil/vigil.db') })
    .default({ path: '.vigil/vigil.db' }),
  sources: z.array(SourceConfig).default([]),
  detectors: DetectorsConfig,
  suppressions: SuppressionsConfig,
  network: NetworkConfig,
  alerts: AlertsConfig,
});
export type RootConfig = z.infer<typeof RootConfig>;

export const DEFAULT_CONFIG_FILES = ['vigil.config.yaml', 'vigil.config.yml', 'vigil.config.json'];

/** The config file to use: the flag, then VIGIL_CONFIG, then a default file in the working directory. */
export function findConfigFile(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
) {
  const named = flag ?? env.VIGIL_CONFIG;
  if (named) {
    const p = resolve(cwd, named);
    if (!existsSync(p)) throw new ConfigError('', `config file not found: ${named}`);
    return p;
  }
  for (const f of DEFAULT_CONFIG_FILES) {
    const p = resolve(cwd, f);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Parses a config text (JSON or YAML); errors name the field and never echo its value. */
export function parseConfig(text: string, file = 'config'): RootConfig {
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const where = /line \d+|position \d+/.exec((err as Error).message)?.[0];
    throw new ConfigError(
      '',
      `${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}${where ? ` (${where})` : ''}`,
    );
  }
  const result = RootConfig.safeParse(raw ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '');
    let msg = issue.message;
    if (issue.code === 'unrecognized_keys')
      msg = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    throw new ConfigError(path || '(root)', `${msg} (in ${file})`);
  }
  return result.data;
}

export function loadConfig(path: string | undefined): RootConfig {
  if (!path) return RootConfig.parse({});
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      '',
      `cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  return parseConfig(text, path);
}

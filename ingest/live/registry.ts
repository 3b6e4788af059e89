import { ConfigError } from '../../core/errors.js';
import { cloudtrailLookup } from './cloudtrail-lookup.js';
import { cloudwatchLogs } from './cloudwatch-logs.js';
import { filesSource } from './files.js';
import type { LiveDeps, LiveSourceType, LiveStream } from './source.js';

/** Every kind of live source. Add one here with one line. */
export const LIVE_SOURCES: readonly LiveSourceType[] = [cloudtrailLookup, cloudwatchLogs, filesSource];

/**
 * Checks each configured source against its type's strict schema (errors name the field, e.g.
 * `sources[0].regions`, and never echo its value) and builds its streams. Stream ids must be unique:
 * two entries reading the same thing would race for one checkpoint.
 */
export function createStreams(
  sources: readonly { readonly type: string; readonly [k: string]: unknown }[],
  deps: LiveDeps,
  types: readonly LiveSourceType[] = LIVE_SOURCES,
): LiveStream[] {
  const parsed = sources.map((raw, i) => {
    const type = types.find((t) => t.type === raw.type);
    if (!type) {
      throw new ConfigError(
        `sources[${i}].type`,
        `unknown source type "${raw.type}" (one of: ${types.map((t) => t.type).join(', ')})`,
      );
    }
    const { type: _t, ...rest } = raw;
    const result = type.config.safeParse(rest);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      const msg =
        issue.code === 'unrecognized_keys'
          ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} for a ${raw.type} source`
          : issue.message;
      throw new ConfigError(`sources[${i}]${path}`, msg);
    }
    return { type, config: result.data, i };
  });
  const streams: LiveStream[] = [];
  const seen = new Map<string, number>();
  for (const { type, config, i } of parsed) {
    for (const s of type.create(config, deps)) {
      const prev = seen.get(s.id);
      if (prev !== undefined)
        throw new ConfigError(`sources[${i}]`, `reads the same stream as sources[${prev}] (${s.id})`);
      seen.set(s.id, i);
      streams.push(s);
    }
  }
  return streams;
}

import { ConfigError } from '../core/errors.js';
import { type AlertsConfig, Route } from './config.js';
import { SINK_TYPES } from './registry.js';
import { SecretResolver } from './secrets.js';
import type { Sink, SinkDeps } from './sink.js';

export const SLACK_ENV = 'VIGIL_SLACK_WEBHOOK_URL';
export const SNS_ENV = 'VIGIL_SNS_TOPIC_ARN';

/**
 * Zero configuration: with `VIGIL_SLACK_WEBHOOK_URL` set, alerts of severity medium and above go to that
 * webhook (sink `slack`); with `VIGIL_SNS_TOPIC_ARN`, likewise to that topic (sink `sns`). Sinks of those
 * names in the config file win. The URL is referenced (`env:`), never copied. Pure.
 */
export function withZeroConfig(
  config: AlertsConfig,
  env: Readonly<Record<string, string | undefined>>,
): AlertsConfig {
  const sinks = { ...config.sinks };
  const routes: Route[] = [];
  if (env[SLACK_ENV] && !sinks.slack) {
    sinks.slack = { type: 'slack', webhookUrl: `env:${SLACK_ENV}` };
    routes.push(Route.parse({ match: { minSeverity: 'medium' }, sinks: ['slack'], continue: true }));
  }
  const topic = env[SNS_ENV];
  if (topic && !sinks.sns) {
    sinks.sns = { type: 'sns', topicArn: topic };
    routes.push(Route.parse({ match: { minSeverity: 'medium' }, sinks: ['sns'], continue: true }));
  }
  if (routes.length === 0) return config;
  // Sinks the file sent everything to (no routes) keep getting everything.
  const fallback = config.default ?? (config.routes.length === 0 ? Object.keys(config.sinks) : []);
  return { ...config, sinks, routes: [...routes, ...config.routes], default: fallback };
}

/**
 * Creates every sink of the config, each checked against its type's schema; errors name the field and
 * never echo its value. All sinks share one secret resolver (one Secrets Manager cache).
 */
export function createSinks(config: AlertsConfig, deps: SinkDeps): Map<string, Sink> {
  const shared: SinkDeps = {
    ...deps,
    secrets: deps.secrets ?? new SecretResolver({ env: deps.env, clock: deps.clock }),
  };
  const sinks = new Map<string, Sink>();
  for (const [name, raw] of Object.entries(config.sinks)) {
    const type = SINK_TYPES.find((t) => t.type === raw.type);
    if (!type)
      throw new ConfigError(
        `alerts.sinks.${name}.type`,
        `unknown sink type "${raw.type}" (one of: ${SINK_TYPES.map((t) => t.type).join(', ')})`,
      );
    const { type: _type, ...rest } = raw;
    const parsed = type.config.safeParse(rest);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = [`alerts.sinks.${name}`, ...issue.path.map(String)].join('.');
      const message =
        issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
      throw new ConfigError(path, message);
    }
    sinks.set(name, type.create(name, parsed.data, shared));
  }
  return sinks;
}

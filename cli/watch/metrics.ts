import type { Clock } from '../../core/clock.js';

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly values: Map<string, { labels: Labels; value: number }>;
}

/** Where one stream is: what `/healthz` shows and the lag gauges are computed from. */
export interface StreamHealth {
  readonly id: string;
  readonly type: string;
  /** Event time up to which the stream has read everything (ms). */
  watermark?: number;
  lastSuccess?: number;
  lastError?: { kind: string; message: string; at: number };
  consecutiveFailures: number;
  pollIntervalMs: number;
}

const HELP: Record<string, [Family['type'], string]> = {
  vigil_events_read_total: [
    'counter',
    'Normalized events read from a source (including ones already stored).',
  ],
  vigil_events_stored_total: ['counter', 'Events stored for the first time.'],
  vigil_late_events_total: [
    'counter',
    'New events older than the source watermark when read (stored and detected).',
  ],
  vigil_records_quarantined_total: ['counter', 'Records that could not be normalized, set aside.'],
  vigil_alerts_raised_total: ['counter', 'New alerts raised by the detectors.'],
  vigil_alerts_delivered_total: ['counter', 'Alert deliveries acknowledged by a sink.'],
  vigil_sink_failures_total: ['counter', 'Alert deliveries that failed (retried later or dead-lettered).'],
  vigil_source_errors_total: [
    'counter',
    'Failed polls by source and kind (credentials, throttled, network, ...).',
  ],
  vigil_polls_total: ['counter', 'Completed polling rounds by source.'],
  vigil_source_lag_seconds: [
    'gauge',
    'Seconds between now and the time up to which the source has been read.',
  ],
  vigil_source_last_success_timestamp_seconds: ['gauge', 'Unix time of the last successful poll.'],
  vigil_source_up: ['gauge', '1 when the last poll of the source succeeded.'],
};

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** Counters and gauges in the Prometheus text exposition format (version 0.0.4). */
export class Metrics {
  private readonly families = new Map<string, Family>();
  readonly streams = new Map<string, StreamHealth>();

  constructor(private readonly clock: Clock) {}

  private family(name: string): Family {
    let f = this.families.get(name);
    if (!f) {
      const [type, help] = HELP[name] ?? ['counter', name];
      this.families.set(name, (f = { help, type, values: new Map() }));
    }
    return f;
  }

  inc(name: string, labels: Labels = {}, by = 1): void {
    if (by === 0 && this.families.get(name)?.values.has(JSON.stringify(labels))) return;
    const f = this.family(name);
    const key = JSON.stringify(labels);
    const cur = f.values.get(key);
    if (cur) cur.value += by;
    else f.values.set(key, { labels, value: by });
  }

  set(name: string, labels: Labels, value: number): void {
    this.family(name).values.set(JSON.stringify(labels), { labels, value });
  }

  get(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.values.get(JSON.stringify(labels))?.value ?? 0;
  }

  /** Sum of a counter over all its label sets. */
  total(name: string): number {
    let n = 0;
    for (const v of this.families.get(name)?.values.values() ?? []) n += v.value;
    return n;
  }

  lagSeconds(s: StreamHealth): number | null {
    return s.watermark === undefined ? null : Math.max(0, (this.clock.now() - s.watermark) / 1000);
  }

  render(): string {
    for (const s of this.streams.values()) {
      const lag = this.lagSeconds(s);
      if (lag !== null) this.set('vigil_source_lag_seconds', { source: s.id }, Math.round(lag * 1000) / 1000);
      if (s.lastSuccess !== undefined)
        this.set(
          'vigil_source_last_success_timestamp_seconds',
          { source: s.id },
          Math.floor(s.lastSuccess / 1000),
        );
      this.set('vigil_source_up', { source: s.id }, s.consecutiveFailures === 0 && s.lastSuccess ? 1 : 0);
    }
    const out: string[] = [];
    for (const [name, f] of [...this.families.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const { labels, value } of f.values.values()) {
        const l = Object.entries(labels)
          .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
          .join(',');
        out.push(`${name}${l ? `{${l}}` : ''} ${value}`);
      }
    }
    return `${out.join('\n')}\n`;
  }

  /** `/healthz`: healthy while every stream succeeded within three poll intervals (at least five minutes). */
  health(): { ok: boolean; body: unknown } {
    const now = this.clock.now();
    const sources = [...this.streams.values()].map((s) => {
      const staleAfter = Math.max(3 * s.pollIntervalMs, 5 * 60_000);
      const ok =
        s.lastSuccess !== undefined ? now - s.lastSuccess <= staleAfter : s.consecutiveFailures === 0;
      return {
        id: s.id,
        type: s.type,
        ok,
        lagSeconds: this.lagSeconds(s),
        watermark: s.watermark !== undefined ? new Date(s.watermark).toISOString() : null,
        lastSuccess: s.lastSuccess !== undefined ? new Date(s.lastSuccess).toISOString() : null,
        consecutiveFailures: s.consecutiveFailures,
        lastError: s.lastError
          ? {
              kind: s.lastError.kind,
              message: s.lastError.message,
              at: new Date(s.lastError.at).toISOString(),
            }
          : null,
      };
    });
    const ok = sources.every((s) => s.ok);
    return { ok, body: { status: ok ? 'ok' : 'degraded', sources } };
  }
}

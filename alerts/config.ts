import { z } from 'zod';

/** A sink as written in the config file: its `type` picks the schema the rest is checked against. */
export const SinkConfig = z.looseObject({ type: z.string().min(1) });

/** The `alerts` section of the config file. */
export const AlertsConfig = z
  .strictObject({
    /** Sinks by name. */
    sinks: z.record(z.string(), SinkConfig).default({}),
  })
  .default({ sinks: {} });
export type AlertsConfig = z.infer<typeof AlertsConfig>;

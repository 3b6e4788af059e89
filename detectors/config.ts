import { z } from 'zod';

/**
 * The `detectors` section of the config file: per-detector settings by detector id, each checked
 * against that detector's own schema when the engine starts (detectors/engine.ts).
 */
export const DetectorsConfig = z.record(z.string(), z.unknown()).default({});
export type DetectorsConfig = z.infer<typeof DetectorsConfig>;

/**
 * One entry of the `suppressions` section: alerts matching every field given are stored but not sent.
 * A reason and an expiry are required, so that no silence is anonymous or forever.
 */
export const Suppression = z
  .strictObject({
    /** Detector id, e.g. `volume-spike`. */
    detector: z.string().min(1).optional(),
    /** Principal id, ARN or name; `*` globs. */
    principal: z.string().min(1).optional(),
    /** Secret id, ARN or name; `*` globs. Matches when every secret on the alert matches. */
    secret: z.string().min(1).optional(),
    /** CIDR of the source address, e.g. `203.0.113.0/24`. */
    network: z.string().min(1).optional(),
    reason: z.string().min(1),
    /** Until when (ISO 8601 date or time, UTC): alerts about events after it are no longer suppressed. */
    expires: z.union([z.iso.datetime({ offset: true }), z.iso.date()]),
  })
  .refine((s) => s.detector || s.principal || s.secret || s.network, {
    message: 'a suppression needs at least one of detector, principal, secret, network',
  });
export type Suppression = z.infer<typeof Suppression>;

export const SuppressionsConfig = z.array(Suppression).default([]);
export type SuppressionsConfig = z.infer<typeof SuppressionsConfig>;

/** The `network` section: how source addresses are classified (detectors/network.ts). */
export const NetworkConfig = z
  .strictObject({
    /** Path to a copy of AWS ip-ranges.json (https://ip-ranges.amazonaws.com/ip-ranges.json). */
    awsIpRanges: z.string().min(1).optional(),
    /** CIDRs that count as inside: corporate egress, VPN. */
    internal: z.array(z.string().min(1)).default([]),
  })
  .default({ internal: [] });
export type NetworkConfig = z.infer<typeof NetworkConfig>;

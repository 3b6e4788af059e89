import { z } from 'zod';

/**
 * The `detectors` section of the config file: per-detector settings by detector id, each checked
 * against that detector's own schema when the engine starts (detectors/engine.ts).
 */
export const DetectorsConfig = z.record(z.string(), z.unknown()).default({});
export type DetectorsConfig = z.infer<typeof DetectorsConfig>;

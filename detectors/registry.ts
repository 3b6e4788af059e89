import { canaryAccess } from './canary-access.js';
import { crossAccount } from './cross-account.js';
import { deniedBurst } from './denied-burst.js';
import type { Detector } from './detector.js';
import { massRetrieval } from './mass-retrieval.js';
import { newAccess } from './new-access.js';
import { newPrincipal } from './new-principal.js';
import { sensitiveOperation } from './sensitive-operation.js';
import { unusualSource } from './unusual-source.js';
import { unusualTime } from './unusual-time.js';
import { volumeSpike } from './volume-spike.js';

/** Every detector. Add a detector here with one line. */
export const DETECTORS: readonly Detector[] = [
  newPrincipal,
  newAccess,
  unusualTime,
  volumeSpike,
  massRetrieval,
  deniedBurst,
  unusualSource,
  sensitiveOperation,
  canaryAccess,
  crossAccount,
] as readonly Detector[];

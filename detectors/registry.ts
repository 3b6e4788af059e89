import type { Detector } from './detector.js';
import { newAccess } from './new-access.js';

/** Every detector. Add a detector here with one line. */
export const DETECTORS: readonly Detector[] = [newAccess];

import type { Container, Unwrapped } from '../containers.js';

/**
 * A CloudTrail digest file (`{"digestStartTime":..,"logFiles":[..],..}`): hashes of log files, no events.
 * Directory walks skip `CloudTrail-Digest/` folders; one given by path, or copied out of that folder, is
 * skipped here. https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html
 */
export const cloudtrailDigest: Container = {
  id: 'cloudtrail-digest',
  match: (d) => typeof d.digestStartTime === 'string' && Array.isArray(d.logFiles),
  *unwrap(): Iterable<Unwrapped> {
    yield { skip: 'cloudtrail digest file' };
  },
};

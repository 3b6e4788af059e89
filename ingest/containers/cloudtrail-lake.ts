import type { Container, Unwrapped } from '../containers.js';
import { isObject } from './items.js';

/**
 * `aws cloudtrail get-query-results` output of a CloudTrail Lake query: `QueryResultRows` is a list of
 * rows, each a list of one-column objects (`[{"eventID":..},{"eventTime":"2023-01-22 16:53:53.000"},..]`).
 * A row becomes one record of those columns; nested objects come as JSON text and `eventTime` without a
 * zone (both UTC), which the CloudTrail source reads. https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetQueryResults.html
 */
export const cloudtrailLake: Container = {
  id: 'cloudtrail-lake-results',
  match: (d) => Array.isArray(d.QueryResultRows),
  *unwrap(d): Iterable<Unwrapped> {
    const rows = d.QueryResultRows as unknown[];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const position = `QueryResultRows[${i}]`;
      if (!Array.isArray(row) || !row.every(isObject)) {
        yield { error: 'row is not a list of columns', position };
        continue;
      }
      yield { value: Object.assign({}, ...row), position };
    }
  },
};

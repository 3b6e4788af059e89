import type { Container } from '../containers.js';
import { items } from './items.js';

/**
 * An Azure REST list response, `{"value":[..],"nextLink":..}`: the Activity Log's `Activity Logs - List`
 * (what `az rest` and API exports save), and Log Analytics rows some tools export the same way. Only an
 * object of nothing but the list and its paging keys, so a record with a `value` field is left alone.
 * https://learn.microsoft.com/rest/api/monitor/activity-logs/list
 */
const KEYS = new Set(['value', 'nextLink', '@odata.nextLink', '@odata.context', '@odata.count', 'count']);

export const azureValueList: Container = {
  id: 'azure-value-list',
  match: (d) => Array.isArray(d.value) && Object.keys(d).every((k) => KEYS.has(k)),
  unwrap: (d) => items(d.value, 'value'),
  list: 'value',
};

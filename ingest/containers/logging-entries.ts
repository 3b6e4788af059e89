import type { Container } from '../containers.js';
import { items } from './items.js';

/**
 * The Cloud Logging API's `entries.list` response, `{"entries":[LogEntry...],"nextPageToken":...}`, as
 * saved from the API or `gcloud logging read --format=json` wrappers that keep the page.
 * https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/list
 */
export const loggingEntries: Container = {
  id: 'logging-entries',
  match: (d) => Array.isArray(d.entries),
  unwrap: (d) => items(d.entries, 'entries'),
  list: 'entries',
};

import type { Container, Unwrapped } from '../containers.js';
import { isObject } from './items.js';

/**
 * The Log Analytics query API response: `{"tables":[{"columns":[{"name":..}],"rows":[[..]]}]}`.
 * Each row becomes one object keyed by column name.
 * https://learn.microsoft.com/rest/api/loganalytics/dataaccess/query/get
 */
export const logAnalyticsTables: Container = {
  id: 'log-analytics-tables',
  match: (d) =>
    Array.isArray(d.tables) && (d.tables.length === 0 || (isObject(d.tables[0]) && 'rows' in d.tables[0])),
  *unwrap(d): Iterable<Unwrapped> {
    const tables = d.tables as unknown[];
    for (let t = 0; t < tables.length; t++) {
      const table = tables[t];
      const position = `tables[${t}]`;
      if (!isObject(table) || !Array.isArray(table.columns) || !Array.isArray(table.rows)) {
        yield { error: 'table without columns and rows', position };
        continue;
      }
      const names = table.columns.map((c) => (isObject(c) && typeof c.name === 'string' ? c.name : ''));
      for (let r = 0; r < table.rows.length; r++) {
        const row = table.rows[r];
        const at = `${position}.rows[${r}]`;
        if (!Array.isArray(row) || row.length !== names.length) {
          yield {
            error: `row has ${Array.isArray(row) ? row.length : 0} cells, table has ${names.length} columns`,
            position: at,
          };
          continue;
        }
        const obj: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) if (names[i]) obj[names[i]!] = row[i];
        yield { value: obj, position: at };
      }
    }
  },
};

/**
 * A small RFC 4180 CSV reader for exports (the Azure portal's Log Analytics export): quoted fields may
 * hold commas, doubled quotes and newlines. Fed line by line so a large export streams.
 */

/** Splits one complete CSV record into fields. */
export function splitCsvRecord(record: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = record.length;
  for (;;) {
    if (record[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = record.indexOf('"', i);
        if (q < 0) {
          value += record.slice(i);
          i = n;
          break;
        }
        value += record.slice(i, q);
        if (record[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(value);
      const comma = record.indexOf(',', i);
      if (comma < 0) return out;
      i = comma + 1;
    } else {
      const comma = record.indexOf(',', i);
      if (comma < 0) {
        out.push(record.slice(i));
        return out;
      }
      out.push(record.slice(i, comma));
      i = comma + 1;
    }
  }
}

/** Whether a record has an unterminated quoted field (it continues on the next line). */
export function openQuote(record: string): boolean {
  let count = 0;
  for (let i = record.indexOf('"'); i >= 0; i = record.indexOf('"', i + 1)) count++;
  return count % 2 === 1;
}

const HEADER_FIELD = /^[A-Za-z_@$][\w .\-/@$[\]()]{0,199}$/;

/** Does this first line look like a CSV header: several short column names, no prose? */
export function looksLikeCsvHeader(line: string): string[] | null {
  if (!line.includes(',')) return null;
  const fields = splitCsvRecord(line.replace(/\r$/, '')).map((f) => f.trim());
  if (fields.length < 2 || !fields.every((f) => HEADER_FIELD.test(f))) return null;
  if (new Set(fields).size !== fields.length) return null;
  return fields;
}

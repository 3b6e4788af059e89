import type { Unwrapped } from '../containers.js';

/**
 * The text a SIEM kept of the record it indexed (Splunk's `_raw`, Elastic's `event.original`), parsed.
 * Text that is not JSON at all (a syslog line in the same index) is someone else's log: skipped as
 * `notJson`. Text that starts like JSON and does not parse is a damaged record: `damaged`.
 */
export function originalText(
  text: string,
  position: string,
  reasons: { readonly notJson: string; readonly damaged: string },
): Unwrapped {
  const t = text.trimStart();
  if (t[0] !== '{' && t[0] !== '[') return { skip: reasons.notJson, position };
  try {
    return { value: JSON.parse(t), position };
  } catch {
    // `[2024-05-01 10:00:00] INFO ...` is a plain log line; a `{` that does not parse is a damaged record.
    if (t[0] === '[') return { skip: reasons.notJson, position };
    return { error: reasons.damaged, position };
  }
}

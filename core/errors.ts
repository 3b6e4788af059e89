/** Typed errors. Expected failures are values (quarantine entries, sink results); these are for the rest. */

export class VigilError extends Error {
  override readonly name: string = 'VigilError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A user's mistake in flags or config: printed as one line, exit code 2. */
export class UsageError extends VigilError {
  override readonly name = 'UsageError';
}

/** The config file or a config value is invalid; `path` names the field. */
export class ConfigError extends VigilError {
  override readonly name = 'ConfigError';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(path ? `${path}: ${message}` : message, options);
  }
}

/** The store could not be opened or written. */
export class StoreError extends VigilError {
  override readonly name = 'StoreError';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

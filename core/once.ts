/** `load` run on the first call only; later calls get the same promise. */
export interface Once<T> {
  (): Promise<T>;
  /** Whether the first call happened. */
  readonly started: boolean;
}

/**
 * Defers async work (loading an AWS SDK client, which costs 50-200 ms at start-up) to its first use,
 * and does it once.
 */
export function once<T>(load: () => Promise<T>): Once<T> {
  let promise: Promise<T> | undefined;
  const get = () => {
    promise ??= load();
    return promise;
  };
  return Object.defineProperty(get, 'started', { get: () => promise !== undefined }) as Once<T>;
}

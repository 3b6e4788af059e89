import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundle, ROOT } from '../bin/bundle.mjs';

const bundles = new Map<string, Promise<URL>>();

/**
 * The module a worker thread runs for `entry`, a TypeScript file in cli/. Worker threads do not inherit
 * the main thread's module hooks, and registering tsx again in each worker is slow: measured here, two
 * workers answered first after about 1 s and 1.7-2 s of CPU that way, against 0.2 s and 0.4 s from one
 * bundled file (bin/bundle.mjs: esbuild, the compiler tsx itself uses, cached by content). When that
 * cannot be done, the worker starts from `fallback`, a module in cli/ that registers tsx and imports
 * the entry.
 */
export function workerUrl(entry: string, fallback: string, bundled = true): Promise<URL> {
  const slow = () => pathToFileURL(join(ROOT, 'cli', fallback));
  if (!bundled) return Promise.resolve(slow());
  let url = bundles.get(entry);
  if (url === undefined) {
    url = bundle(`cli/${entry}`).catch(() => slow());
    bundles.set(entry, url);
  }
  return url;
}

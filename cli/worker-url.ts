import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const CLI = dirname(fileURLToPath(import.meta.url));
/** Inside the project, so that the bundle's imports of packages resolve to its node_modules. */
const CACHE = join(CLI, '..', 'node_modules', '.cache', 'vigil');

const bundles = new Map<string, Promise<URL>>();

/**
 * The module a worker thread runs for `entry`, a TypeScript file in cli/. Worker threads do not inherit
 * this thread's tsx hooks, and registering them again in each worker is slow: measured here, two workers
 * answered first after about 1 s and 1.7-2 s of CPU that way, against 0.2 s and 0.4 s from one bundled
 * file. So the worker's code is bundled once per process with esbuild (the compiler tsx itself uses;
 * about 50 ms), packages left to node_modules, into a file named by its content in
 * node_modules/.cache/vigil. When that cannot be done, the worker starts from `fallback`, a module
 * beside the entry that registers tsx and imports it.
 */
export function workerUrl(entry: string, fallback: string, bundle = true): Promise<URL> {
  const slow = () => new URL(fallback, pathToFileURL(join(CLI, '/')));
  if (!bundle) return Promise.resolve(slow());
  let url = bundles.get(entry);
  if (url === undefined) {
    url = bundled(entry).catch(() => slow());
    bundles.set(entry, url);
  }
  return url;
}

async function bundled(entry: string): Promise<URL> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [join(CLI, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const text = out.outputFiles[0]!.contents;
  const hash = createHash('sha1').update(text).digest('hex').slice(0, 16);
  const file = join(CACHE, `${entry.replace(/\.ts$/, '')}-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(CACHE, { recursive: true });
    // Another vigil may write the same file at the same time: each writes its own, then renames.
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  }
  return pathToFileURL(file);
}

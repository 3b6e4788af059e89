// One ESM bundle of a TypeScript entry, cached by the content of what went into it. Loading vigil's
// TypeScript through tsx's module hooks costs about a second at every start, and again in every worker
// thread; one bundled file loads in a fraction of that. Packages stay in node_modules.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The project's root: this file is in bin/, and is never bundled itself. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Inside the project, so that a bundle's imports of packages resolve to its node_modules. */
const CACHE = join(ROOT, 'node_modules', '.cache', 'vigil');
const SELF = fileURLToPath(import.meta.url);
/** Bundles of older sources are removed once they are this old (a process may still be loading one). */
const STALE_MS = 3_600_000;

/**
 * The URL of a bundle of `entry` (a path from the project root). The index beside it names the files
 * that went in and a hash of exactly the text esbuild compiled: while they hash the same, the bundle is
 * used as it is, without running esbuild (about 0.1 s).
 * @param {string} entry
 * @returns {Promise<URL>}
 */
export async function bundle(entry) {
  const name = entry.replace(/\.ts$/, '').replaceAll('/', '-');
  const index = join(CACHE, `${name}.json`);
  try {
    const known = JSON.parse(readFileSync(index, 'utf8'));
    const file = join(CACHE, known.file);
    if (
      existsSync(file) &&
      hashOf(known.inputs.map((f) => readFileSync(join(ROOT, f), 'utf8'))) === known.key
    )
      return pathToFileURL(file);
  } catch {
    // no index yet, or a source is gone: bundle anew
  }
  const { build } = await import('esbuild');
  /** @type {Map<string, string>} */
  const texts = new Map();
  const out = await build({
    entryPoints: [join(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'vigil-cache',
        setup(b) {
          // This module stays itself (it finds the project from where it is), imported from the cache.
          b.onResolve({ filter: /bin[\\/]bundle\.mjs$/ }, (args) =>
            join(args.resolveDir, args.path) === SELF
              ? { path: '../../../bin/bundle.mjs', external: true }
              : undefined,
          );
          // Keep the text of every project file compiled, to hash exactly what went into the bundle.
          b.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
            const contents = readFileSync(args.path, 'utf8');
            texts.set(args.path, contents);
            const ext = args.path.slice(args.path.lastIndexOf('.') + 1);
            return { contents, loader: ext.endsWith('ts') ? 'ts' : 'js' };
          });
        },
      },
    ],
  });
  const inputs = [...texts.keys()].sort().map((p) => p.slice(ROOT.length + 1));
  const key = hashOf(inputs.map((f) => texts.get(join(ROOT, f))));
  const code = out.outputFiles[0].contents;
  const file = `${name}-${createHash('sha1').update(code).digest('hex').slice(0, 16)}.mjs`;
  mkdirSync(CACHE, { recursive: true });
  if (!existsSync(join(CACHE, file))) writeAtomically(join(CACHE, file), code);
  writeAtomically(index, JSON.stringify({ inputs, key, file }));
  removeStale(name, file);
  return pathToFileURL(join(CACHE, file));
}

/**
 * The key of a bundle: the texts that went in, and how they were made (this file, the esbuild version
 * and the Node version that runs it).
 * @param {readonly (string | undefined)[]} texts
 */
function hashOf(texts) {
  const h = createHash('sha1');
  h.update(readFileSync(SELF))
    .update(readFileSync(join(ROOT, 'node_modules/esbuild/package.json')))
    .update(process.version);
  for (const t of texts) h.update(t ?? '').update('\0');
  return h.digest('hex');
}

/** Another vigil may write the same file at the same time: each writes its own, then renames. */
function writeAtomically(path, data) {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function removeStale(name, keep) {
  const now = Date.now();
  for (const f of readdirSync(CACHE)) {
    if (f === keep || !/^[\w-]+-[0-9a-f]{16}\.mjs$/.test(f) || f.slice(0, -21) !== name) continue;
    try {
      if (now - statSync(join(CACHE, f)).mtimeMs > STALE_MS) unlinkSync(join(CACHE, f));
    } catch {
      // gone already
    }
  }
}

#!/usr/bin/env node
// Entry point: runs the TypeScript CLI, so `npx vigil` works right after `npm ci`: from one esbuild bundle
// cached in node_modules/.cache/vigil (bin/bundle.mjs; about half a second faster to start), or through
// tsx's module hooks when the bundle cannot be made.

// A closed pipe (`vigil query | head`) is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// vigil pins AWS SDK versions that run on Node 20; the SDK's notice about its future Node 22 floor would
// otherwise land in the middle of vigil's JSON logs on every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { main } = await load();
process.exitCode = await main(process.argv.slice(2));

async function load() {
  let url;
  try {
    const { bundle } = await import('./bundle.mjs');
    url = await bundle('cli/main.ts');
  } catch {
    const { register } = await import('tsx/esm/api');
    register();
    return import('../cli/main.ts');
  }
  return import(url.href);
}

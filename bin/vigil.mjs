#!/usr/bin/env node
// Entry point: runs the TypeScript CLI through tsx, so `npx vigil` works right after `npm ci`.
import { register } from 'tsx/esm/api';

// A closed pipe (`vigil query | head`) is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// vigil pins AWS SDK versions that run on Node 20; the SDK's notice about its future Node 22 floor would
// otherwise land in the middle of vigil's JSON logs on every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

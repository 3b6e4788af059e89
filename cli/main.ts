import { systemClock } from '../core/clock.js';
import { ConfigError, StoreError, UsageError, VigilError } from '../core/errors.js';
import { redact } from '../core/secret.js';
import { type Command, type Io, parseCommandArgs, renderHelp } from './command.js';
import { COMMANDS } from './commands/index.js';

export const VERSION = '0.1.0';

function topHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'vigil: watches who reads your secrets.',
    '',
    'Usage: vigil COMMAND [options]      (vigil COMMAND --help for its options)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Environment: VIGIL_DB (store path), VIGIL_CONFIG (config file), VIGIL_SLACK_WEBHOOK_URL and',
    'VIGIL_SNS_TOPIC_ARN (send alerts of severity medium and above there with no config), VIGIL_DEBUG.',
    'Docs: README.md, docs/events.md, docs/alerts.md, docs/config.md, docs/watch.md, docs/detectors.md',
    '',
  ].join('\n');
}

/** Longest command name that prefixes argv, so that `alerts redeliver` wins over `alerts`. */
function findCommand(
  argv: string[],
  commands: readonly Command[],
): { cmd: Command; rest: string[] } | undefined {
  let best: { cmd: Command; rest: string[] } | undefined;
  for (const cmd of commands) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.cmd.name.split(' ').length)) {
      best = { cmd, rest: argv.slice(words.length) };
    }
  }
  return best;
}

export function defaultIo(): Io {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    clock: systemClock,
    interactive: Boolean(process.stderr.isTTY) && !process.env.CI,
    signal: controller.signal,
  };
}

/** Runs the CLI; returns the exit code. Usage and config errors are one line and exit 2. */
export async function main(
  argv: string[],
  io: Io = defaultIo(),
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(topHelp(commands));
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const found = findCommand(argv, commands);
  if (!found) {
    io.stderr.write(`vigil: unknown command "${argv[0]}" (see \`vigil --help\`)\n`);
    return 2;
  }
  const { cmd, rest } = found;
  try {
    const args = parseCommandArgs(cmd, rest);
    if (args.values.help) {
      io.stdout.write(renderHelp(cmd));
      return 0;
    }
    return await cmd.run(args, io);
  } catch (err) {
    // Messages may name their command already ("ingest: ..."): say it once.
    const said = (e: Error) =>
      redact(e.message.startsWith(`${cmd.name}: `) ? e.message.slice(cmd.name.length + 2) : e.message);
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.stderr.write(`vigil ${cmd.name}: ${said(err)}\n`);
      return 2;
    }
    if (err instanceof StoreError || err instanceof VigilError) {
      io.stderr.write(`vigil ${cmd.name}: ${said(err)}\n`);
      return 1;
    }
    // A bug: say so in one line, with the stack only when asked for.
    io.stderr.write(`vigil ${cmd.name}: internal error: ${redact((err as Error)?.message ?? String(err))}\n`);
    if (io.env.VIGIL_DEBUG) io.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return 70;
  }
}

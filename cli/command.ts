import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Clock } from '../core/clock.js';
import { UsageError } from '../core/errors.js';

/** What a command may touch of the outside world: injected, so commands run in tests as in a shell. */
export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly clock: Clock;
  /** Whether stderr is a terminal (progress bars) */
  readonly interactive: boolean;
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface OptionHelp {
  readonly flag: string;
  readonly text: string;
}

/** One CLI command: one file in cli/commands/, registered on one line in cli/commands/index.ts. */
export interface Command {
  /** Words that invoke it, e.g. `query` or `alerts redeliver`. */
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly description?: string;
  readonly options: Options;
  readonly help: readonly OptionHelp[];
  readonly examples?: readonly string[];
  /** Whether positional arguments are accepted. */
  readonly positionals?: boolean;
  run(args: ParsedArgs, io: Io): Promise<number>;
}

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  readonly positionals: string[];
}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: cmd.positionals ?? false,
      strict: true,
    });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (err) {
    // node's messages are one line already; make them name the command and the fix.
    const msg = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${msg} (see \`vigil ${cmd.name} --help\`)`);
  }
}

export function str(args: ParsedArgs, key: string): string | undefined {
  const v = args.values[key];
  return typeof v === 'string' ? v : undefined;
}

/** `--threads N`: a whole number from 1 to 64, or undefined when not given. */
export function threadsOption(args: ParsedArgs): number | undefined {
  const flag = str(args, 'threads');
  if (flag === undefined) return undefined;
  const n = Number(flag);
  if (!(Number.isInteger(n) && n >= 1 && n <= 64))
    throw new UsageError(`--threads must be a whole number from 1 to 64, not ${flag}`);
  return n;
}

export function bool(args: ParsedArgs, key: string): boolean {
  return args.values[key] === true;
}

export function renderHelp(cmd: Command): string {
  const width = Math.max(...cmd.help.map((h) => h.flag.length), 10) + 2;
  const lines = [`Usage: ${cmd.usage}`, '', cmd.description ?? cmd.summary, ''];
  if (cmd.help.length) {
    lines.push('Options:');
    for (const h of [...cmd.help, { flag: '-h, --help', text: 'show this help' }]) {
      lines.push(`  ${h.flag.padEnd(width)}${h.text}`);
    }
    lines.push('');
  }
  if (cmd.examples?.length) {
    lines.push('Examples:');
    for (const e of cmd.examples) lines.push(`  ${e}`);
    lines.push('');
  }
  return lines.join('\n');
}

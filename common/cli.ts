/** Pieces shared by both command-line programs: option parsing, version, exit. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { HeartbeatChatError, UsageError, ExitCode } from './errors.js';
import { writeLineSync } from './sync-output.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** util.parseArgs in strict mode, its errors turned into one-line UsageErrors. */
export function parseOptions<T extends OptionSpec>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: joinDashValues(args, options), options, strict: true as const, allowPositionals });
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    throw new UsageError(msg.replace(/\. To specify a positional argument.*$/, ''));
  }
}

/**
 * `--ticket -Xy…` as `--ticket=-Xy…`. parseArgs refuses a separate value that
 * starts with a dash as ambiguous, but tickets, keys and tokens are base64url,
 * and one in 64 of them starts with "-": a script passing one as it came would
 * fail at random. A value is taken as a value unless it is one of our options.
 */
export function joinDashValues(args: string[], options: OptionSpec): string[] {
  const isOption = (arg: string): boolean => {
    if (arg === '--' || arg === '-') return true;
    if (arg.startsWith('--')) return Object.hasOwn(options, arg.slice(2).split('=')[0]!);
    // A short option is two characters: "-vq" or "-hX8f…" as a value is a key that starts with a dash.
    return arg.length === 2 && Object.values(options).some((o) => o.short !== undefined && arg[1] === o.short);
  };
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return out.concat(args.slice(i));
    const next = args[i + 1];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    const takesValue = name !== undefined && Object.hasOwn(options, name) && options[name]!.type === 'string';
    if (takesValue && next !== undefined && next.startsWith('-') && !isOption(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

let cachedVersion: string | undefined;
export function packageVersion(): string {
  if (cachedVersion === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    cachedVersion = pkg.version;
  }
  return cachedVersion;
}

/** Node >= 22.12 brings reusePort; say so plainly instead of failing later with EINVAL. */
export function requireNode(min: [number, number], program: string): void {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  if (major < min[0] || (major === min[0] && minor < min[1])) {
    writeLineSync(
      2,
      `${program}: Node ${min[0]}.${min[1]} or newer is required (this is ${process.version}); ` +
        `run it through npm (npm start / npx ${program}) to use the Node installed by npm install`,
    );
    process.exit(ExitCode.FAILURE);
  }
}

/** The exit code (README.md, "Exit codes") a command ends with when this error ends it: a bug's is 1. */
export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof HeartbeatChatError ? err.exitCode : ExitCode.FAILURE;
}

/** Prints a usage error the way every option error is printed and exits 2. */
export function exitUsage(program: string, err: UsageError): never {
  writeLineSync(2, `${program}: ${err.message}`);
  writeLineSync(2, `Try '${program} --help' for more information.`);
  process.exit(ExitCode.USAGE);
}

/**
 * The common start of both programs: Node version check, then parse; --help,
 * --version and usage errors end the process here. Returns the parsed options.
 */
export function startProgram<O>(
  program: string,
  usage: string,
  parse: (args: string[]) => { help: true } | { version: true } | { options: O },
  args: string[] = process.argv.slice(2),
): O {
  requireNode([22, 12], program);
  let parsed;
  try {
    parsed = parse(args);
  } catch (err) {
    if (err instanceof UsageError) exitUsage(program, err);
    throw err;
  }
  if ('help' in parsed) {
    writeLineSync(1, usage);
    process.exit(ExitCode.OK);
  }
  if ('version' in parsed) {
    writeLineSync(1, `${program} ${packageVersion()}`);
    process.exit(ExitCode.OK);
  }
  return parsed.options;
}

/**
 * V8's code cache on disk for our modules (under the temp dir, or NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1
 * turns it off): compiling the ~80 modules of an `lftp get` is some 15 ms of its start, paid again on every run
 * without it. An optimization only: the call never throws, and a cache that cannot be written is simply not used.
 */
export function cacheCompiledModules(): void {
  enableCompileCache();
}

/** `program sub ...`: runs the subcommand and exits with its code; usage errors exit 2. */
export async function runSubcommand(
  program: string,
  run: (args: string[]) => Promise<number>,
  args: string[],
): Promise<never> {
  requireNode([22, 12], program);
  try {
    process.exit(await run(args));
  } catch (err) {
    if (err instanceof UsageError) exitUsage(program, err);
    // One of ours: its message is for the user, its code gives the exit. Anything else is a bug: its stack.
    if (!(err instanceof HeartbeatChatError)) throw err;
    writeLineSync(2, `${program}: ${err.message}`);
    process.exit(exitCodeOf(err));
  }
}

/** Options whose values are secrets: ps and /proc/PID/cmdline show *** in their place (secretsHidden). */
export const SECRET_OPTIONS = [
  '--admin-token',
  '--server-password',
  '--token',
  '--password',
  '--ticket',
  '--ticket-key',
];

/**
 * The command line as the system shows it (process.title), named for the
 * program and with secrets' values replaced: `chat-server --port 9000
 * --admin-token ***`. process.title overwrites the process's argv memory on
 * Linux, so ps and /proc/PID/cmdline show this instead of, say, the admin
 * token (the environment variables, CHAT_ADMIN_TOKEN and the like, are better
 * still: only the same user and root can read a process's environment). It
 * starts with the program's name, not node's and the script's path: the title
 * can be no longer than the command line it replaces, and under `npm start`
 * (`node dist/server/cli.js`) "node /full/path/to/dist/server/cli.js" was cut
 * to "node /full/path/to/di".
 */
export function secretsHidden(program: string, argv: string[] = process.argv): string {
  const out: string[] = [program];
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    if (eq > 0 && SECRET_OPTIONS.includes(a.slice(0, eq))) out.push(`${a.slice(0, eq)}=***`);
    else if (SECRET_OPTIONS.includes(a) && i + 1 < argv.length) out.push(a, (i++, '***'));
    else out.push(a);
  }
  return out.join(' ');
}

import { Command } from 'commander';
import { createRequire } from 'node:module';
import { COMMANDS } from './commands.js';
import { handleError, wantsJson } from './errors.js';
import { Reporter } from './reporter.js';
import { addHelp, configureHelpWidth, helpConfiguration } from './help.js';
import { publishAfterParseError } from './metrics.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command('waha-storage')
    .description('Inspect, migrate, back up, clean and check the storage of WAHA (WhatsApp HTTP API)')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp(helpConfiguration())
    .exitOverride();
  configureHelpWidth(program); // before the commands: they inherit it
  addHelp(program, `
Every command takes --help; settings come from flags, then WAHA's own environment variables, then .env.
Exit codes: 0 done, 1 failed, 2 usage or configuration, 3 partly done (or problems found), 130 interrupted.`, [
    ['what is in the local store and MongoDB', 'waha-storage inspect'],
    ['copy every session from the local store into MongoDB', 'waha-storage migrate local mongo'],
    ['a daily archive of the sessions', 'waha-storage backup local --output sessions-{date}.tar.gz'],
  ]);
  for (const register of COMMANDS) register(program);
  overrideExits(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `waha-storage inspect | head`: a closed pipe ends the output quietly, not with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      if (stream.listenerCount('error') > 1) return; // a pipeline writing into it (backup --output -) reports it
      throw error;
    });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    // Commander's own usage errors and errors thrown while it parses (option value parsers) get
    // the same handling as actions: the exit code, and with --json one document on stdout.
    const reporter = new Reporter({ json: wantsJson(argv), verbose: argv.includes('--verbose') || argv.includes('-v') });
    handleError(error, reporter);
    const exitCode = Number(process.exitCode ?? 0);
    if (exitCode !== 0) await publishAfterParseError(argv.slice(2), program as never, exitCode, (text) => reporter.warn(text));
  }
}

/** Commander must throw, not exit, at every level, so the one handler sets the exit code. */
function overrideExits(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) overrideExits(sub);
}

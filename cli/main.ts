/**
 * elbo's command line. Commands live in cli/commands/, one file each; this file wires them into
 * commander (chosen for its subcommand help and strict option parsing; Node's util.parseArgs has no
 * per-command --help).
 */
import { Command, CommanderError } from 'commander';
import { registerDemoCommand } from './commands/demo.js';
import { registerVaeDemoCommand } from './commands/demoVae.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerExportCommand } from './commands/export.js';
import { registerSampleCommand } from './commands/sample.js';
import { registerTrainCommand } from './commands/train.js';
import { UserError } from './userError.js';

export function buildProgram(): Command {
  const program = new Command('elbo')
    .description(
      'Likelihood-based generative models (VAE, DDPM) from the ELBO up: train, sample and evaluate.\n' +
        'Run `elbo <command> --help` for the options of a command.',
    )
    .showHelpAfterError()
    .exitOverride();
  registerTrainCommand(program);
  registerSampleCommand(program);
  registerEvalCommand(program);
  registerExportCommand(program);
  registerDemoCommand(program);
  registerVaeDemoCommand(program);
  return program;
}

/** Runs the CLI; returns the process exit code. Errors the user can fix print one clear line. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed the message (or help); help and version exit with code 0.
      return err.exitCode;
    }
    if (err instanceof UserError) {
      process.stderr.write(`elbo: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

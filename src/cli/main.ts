#!/usr/bin/env node
// The fairtune command line: one subcommand per module in ./commands.
import { Command } from 'commander';
import { registerBackendsCommand } from './commands/backends';
import { registerDataCommand } from './commands/data';
import { registerDemoCommand } from './commands/demo';
import { registerEmbedCommand } from './commands/embed';
import { registerExperimentCommand } from './commands/experiment';
import { registerFinetuneCommand } from './commands/finetune';
import { registerPretrainCommand } from './commands/pretrain';
import { registerProfileCommand } from './commands/profile';
import { registerTraceCommand } from './commands/trace';
import { registerWorkerCommand } from './commands/worker';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fairtune')
    .description('bias-aware fine-tuning of PPG foundation models for heart-rate prediction')
    // One line naming the option and what is wrong, then where help is (not the whole help text).
    .showHelpAfterError('(fairtune <command> --help lists the options)')
    .exitOverride();
  registerExperimentCommand(program);
  registerPretrainCommand(program);
  registerFinetuneCommand(program);
  registerEmbedCommand(program);
  registerDemoCommand(program);
  registerTraceCommand(program);
  registerBackendsCommand(program);
  registerDataCommand(program);
  registerProfileCommand(program);
  registerWorkerCommand(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return;
    if (err.code?.startsWith('commander.')) process.exit(err.exitCode ?? 1);
    console.error(`fairtune: ${err.message ?? String(e)}`);
    process.exit(1);
  }
}

if (require.main === module) void main();

import type { Command } from 'commander';
import { probeBackends } from '../../engine/registry';

export function registerBackendsCommand(program: Command): void {
  program
    .command('backends')
    .description('list the compute backends and why any of them cannot run here')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      const list = probeBackends();
      if (o.json) {
        console.log(JSON.stringify(list, null, 2));
        return;
      }
      for (const b of list) console.log(`${b.available ? '✓' : '✗'} ${b.name.padEnd(10)} ${(b.available ? b.description : b.reason) ?? ''}`);
    });
}

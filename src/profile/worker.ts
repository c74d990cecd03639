// Runs one profile case in a child process of its own, so that its peak RSS (VmHWM) is its own and not the
// high-water mark of the largest model profiled before it. Talks to the parent over the fork IPC channel.
import { profileCase, type ProfileCase } from './profile';

process.once('message', (msg: ProfileCase) => {
  try {
    const result = profileCase(msg, (m) => process.send?.({ log: m }));
    process.send?.({ result }, () => process.exit(0));
  } catch (e) {
    process.send?.({ error: (e as Error).message }, () => process.exit(1));
  }
});

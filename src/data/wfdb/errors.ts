// One error type for everything the WFDB reader rejects, so callers (loaders, the CLI) can tell a bad
// record from a programming error and print the message as is: it always names the file concerned.
export class WfdbError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WfdbError';
  }
}

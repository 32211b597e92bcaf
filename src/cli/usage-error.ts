/** The command line was used wrongly: exit code 2, with the command's help pointed to. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

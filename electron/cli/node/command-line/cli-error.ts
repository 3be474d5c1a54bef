// The two kinds of error the CLI prints as plain lines (no stack; the message already says what
// to do): a usage error (exit 2: the command line is wrong) and a failure (exit 1: the command
// was right but could not be done). Any other error is also a failure (exit 1).

/** The command line is wrong: exit 2, with the command's usage line after the message. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

/** The command could not be done: exit 1, the message printed as it is. */
export class CliFailure extends Error {
  override name = 'CliFailure';
}

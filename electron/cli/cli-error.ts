/** An error the CLI prints as one plain line (no stack): the message already says what to do. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

// What went wrong, as text, from whatever was thrown: the one place that turns an unknown thrown
// value into a message (an Error's message; anything else, such as a thrown string, as text).

export interface ErrorMessageOptions {
  /** Only the first line, without a final period: for quoting a library's message inside a sentence of our own. */
  readonly clause?: boolean;
  /** Said instead of an empty message (an Error thrown without one). */
  readonly ifEmpty?: string;
}

export function errorMessage(error: unknown, options: ErrorMessageOptions = {}): string {
  let message = error instanceof Error ? error.message : String(error);
  if (options.clause) message = message.split('\n')[0]!.replace(/\.$/, '');
  return message === '' && options.ifEmpty !== undefined ? options.ifEmpty : message;
}

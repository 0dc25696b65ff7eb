/** An error caused by the user's input: printed as one line (no stack), exit code 2. */
export class UserError extends Error {
  override name = 'UserError';
}

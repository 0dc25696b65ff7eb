/**
 * The error the pure file readers throw (safetensors, elbo checkpoints, classifiers, IDX) when the bytes are
 * not a valid file of their kind: the message says what was expected and what was found. Anything else a reader
 * throws is a bug. The CLI turns a FormatError into a one-line user error naming the file.
 */
export class FormatError extends Error {
  override name = 'FormatError';
}

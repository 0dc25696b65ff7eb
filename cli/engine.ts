/** Creates the Node engine for a command and always disposes it (worker threads would keep the process alive). */
import { createNodeEngine } from '../node/engine.js';
import { Context } from '../src/tensor/tensor.js';

export async function withEngine<T>(
  threads: number | undefined,
  fn: (ctx: Context) => Promise<T> | T,
): Promise<T> {
  const engine = await createNodeEngine(threads === undefined ? {} : { threads });
  try {
    return await fn(new Context(engine));
  } finally {
    engine.dispose();
  }
}

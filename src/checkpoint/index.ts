/** Checkpoints: the safetensors format. */
export * from './safetensors.js';
export * from './formatError.js';
export * from './json.js';

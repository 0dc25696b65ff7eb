/** Checkpoints: the safetensors format. */
export * from './safetensors.js';

// The kernel module: every export here is callable from TypeScript on pointers into the shared memory.
export { gemm, gemmBatched } from './gemm';
export { conv2dBackwardInput, conv2dBackwardWeightDirect, conv2dBackwardWeightDirectFinish, conv2dForward } from './conv';
export {
  add,
  addGroupRowVector,
  addRowVector,
  addScaled,
  axpy,
  copy,
  expForward,
  fill,
  mul,
  scale,
  siluBackwardSaved,
  siluForward,
  siluForwardSaving,
  squaredErrorSum,
  sub,
  sumColumnsFinish,
  sumColumnsPartial,
  sumGroupRows,
} from './elementwise';
export { convBroadcast, convReduce, convThinWeightGrad } from './thinconv';
export { groupNormBackward, groupNormForward } from './groupnorm';
export { softmaxRows, softmaxRowsBackward } from './softmax';
export { concatChannels, splitChannels, upsampleNearest2x, upsampleNearest2xBackward } from './resample';
export { adamStep, emaUpdate } from './adam';
export {
  winogradConv,
  winogradWeightGradFinish,
  winogradWeightGradPartial,
  winogradWeightTransform,
} from './winograd';

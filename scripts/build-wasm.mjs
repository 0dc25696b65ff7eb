// Compiles the AssemblyScript kernels (src/engine/assembly) to WebAssembly with the assemblyscript npm
// package: one plain-SIMD build and one relaxed-SIMD build (fused multiply-add). Both import a shared
// memory so that worker threads run the same kernels on the same tensors.
import { mkdirSync } from 'node:fs';
import asc from 'assemblyscript/asc';

mkdirSync('build', { recursive: true });
const common = [
  'src/engine/assembly/index.ts',
  '-O3',
  '--noAssert',
  '--runtime',
  'stub',
  '--importMemory',
  '--sharedMemory',
  '--initialMemory',
  '1',
  '--maximumMemory',
  '65536',
  '--enable',
  'simd',
  '--enable',
  'threads',
];
for (const [out, extra] of [
  ['build/kernels.wasm', []],
  ['build/kernels-relaxed.wasm', ['--enable', 'relaxed-simd']],
]) {
  const { error, stderr } = await asc.main([
    ...common,
    ...extra,
    '-o',
    out,
    '-t',
    out.replace(/\.wasm$/, '.wat'),
  ]);
  if (error) {
    console.error(stderr.toString());
    console.error(`build-wasm: ${out} failed: ${error.message}`);
    process.exit(1);
  }
  console.log(`build-wasm: wrote ${out}`);
}

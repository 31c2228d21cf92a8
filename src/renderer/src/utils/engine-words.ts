/*
 * The engines in words for people: what a new run trains and quantifies on (the status bar, from
 * the defaults a new run starts with), and what trained each stage of a run (the engine note the
 * stage recorded in state.json, e.g. 'onnx cpu — 2 threads' or 'tfjs (wasm) — onnx unavailable: …').
 * Pure string formatting; the choice itself is made by the engine (select-train.ts, select.ts).
 */
import type { QuantifyEngine } from '../../../common/config';

/** TF.js backend names in words. */
const TFJS_WORDS: Record<string, string> = {
  wasm: 'wasm',
  webgpu: 'WebGPU',
  tensorflow: 'tfjs-node',
  cpu: 'plain JS cpu'
};

export function tfjsWords(backend: string): string {
  return TFJS_WORDS[backend] ?? backend;
}

/** The ONNX Runtime device of a run's configuration in words. */
function deviceWords(device: string): string {
  return device === 'cpu' ? 'CPU' : device === 'gpu' ? 'GPU, else CPU' : 'best device';
}

/**
 * What a new run trains on: 'auto' is ONNX Runtime (compiled training graphs), falling back to
 * TF.js for a stage that cannot compile (each stage records which ran and why).
 */
export function trainingWords(o: { trainEngine: QuantifyEngine; device: string; tfjsBackend: string }): string {
  const tf = `TF.js (${tfjsWords(o.tfjsBackend)})`;
  if (o.trainEngine === 'tfjs') return tf;
  const onnx = `ONNX Runtime (${deviceWords(o.device)})`;
  return o.trainEngine === 'onnx' ? onnx : `${onnx}, else ${tf}`;
}

/** What a new run quantifies on ('auto': ONNX Runtime, falling back to TF.js with the reason). */
export function quantificationWords(o: { engine: QuantifyEngine; device: string; workers: number }): string {
  const workers = `${o.workers} worker${o.workers === 1 ? '' : 's'}`;
  if (o.engine === 'tfjs') return `TF.js (${workers})`;
  return `ONNX Runtime (${deviceWords(o.device)}, ${workers})`;
}

/**
 * A stage's recorded training engine in words: 'onnx cpu — 2 threads' reads "ONNX Runtime (cpu,
 * 2 threads)", 'tfjs (wasm) — onnx unavailable: …' reads "TF.js (wasm)" with the reason apart.
 */
export function stageEngineWords(note: string): { engine: string; why: string | null } {
  const cut = note.indexOf(' — ');
  const head = cut >= 0 ? note.slice(0, cut) : note;
  const tail = cut >= 0 ? note.slice(cut + 3) : null;
  const onnx = /^onnx\s+(\S+)$/.exec(head);
  if (onnx) return { engine: `ONNX Runtime (${onnx[1]}${tail ? `, ${tail}` : ''})`, why: null };
  const tfjs = /^tfjs \((.+)\)$/.exec(head);
  if (tfjs) return { engine: `TF.js (${tfjsWords(tfjs[1])})`, why: tail };
  return { engine: note, why: null };
}

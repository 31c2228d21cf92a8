/*
 * Loads ONNX Runtime (onnxruntime-node) at run time and opens sessions on a chosen execution
 * provider. The runtime is chosen, never assumed: each provider is tried with a tiny self-check
 * graph, and a failure falls back to CPU with the reason. Must not import onnxruntime-node
 * statically (a machine whose native library cannot load still runs the TF.js engine).
 */
import type * as Ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { encodeModel } from './model-proto';
import { f32, type IrGraph } from './ir';
import { NCHWC_DOMAIN, blockConvs } from './blocked-conv';

export type OrtModule = typeof Ort;
export type DeviceRequest = 'cpu' | 'gpu' | 'auto';
export const DEVICES: readonly DeviceRequest[] = ['cpu', 'gpu', 'auto'];

export interface RuntimeChoice {
  ort: OrtModule;
  /** The execution provider sessions use: 'cpu', 'cuda', 'dml', 'coreml' or 'webgpu'. */
  provider: string;
  /** Intra-op threads per session. */
  threads: number;
  /** One line: what runs and why. */
  reason: string;
  /**
   * The CPU's NCHWc block (8 or 16) when the CPU provider runs convolutions in blocked form
   * (blocked-conv.ts); absent or 1 where graphs run as compiled (GPU providers, KD_LENS_ORT_NCHWC=0).
   */
  convBlock?: number;
}

let loaded: { ort: OrtModule } | { error: string } | null = null;

/** onnxruntime-node, or the reason it cannot load. */
export async function loadOrt(): Promise<{ ort: OrtModule } | { error: string }> {
  if (loaded) return loaded;
  try {
    const name = 'onnxruntime-node'; // a variable, so that bundlers leave the import to run time
    const mod = (await import(/* @vite-ignore */ name)) as OrtModule & { default?: OrtModule };
    const ort = mod.InferenceSession ? mod : mod.default!;
    ort.env.logLevel = 'fatal'; // failures reach us as exceptions; not the log lines of a provider probe or of unused initializers
    loaded = { ort };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    loaded = {
      error: /Cannot find (module|package)/.test(msg)
        ? 'onnxruntime-node is not installed'
        : `onnxruntime-node failed to load (${msg})`
    };
  }
  return loaded;
}

/** Parses --device or the run configuration's device; throws naming the origin. */
export function parseDevice(value: string | undefined, origin: string): DeviceRequest {
  if (value === undefined || value === '') return 'cpu';
  const v = value.trim().toLowerCase() as DeviceRequest;
  if (!DEVICES.includes(v))
    throw new Error(`${origin}: unknown device '${value}' (expected one of ${DEVICES.join(', ')})`);
  return v;
}

/** GPU providers worth trying on this platform, in order. */
function gpuProviders(ort: OrtModule): string[] {
  const listed = new Set(ort.listSupportedBackends?.().map((b) => b.name) ?? []);
  const byPlatform: Record<string, string[]> = {
    linux: ['cuda', 'webgpu'],
    win32: ['dml', 'webgpu'],
    darwin: ['coreml', 'webgpu']
  };
  return (byPlatform[process.platform] ?? ['webgpu']).filter((p) => listed.has(p));
}

/** Intra-op threads for one of `workers` processes sharing this machine's cores (at least 1). */
export function threadsPerWorker(workers: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

export function sessionOptions(
  choice: Pick<RuntimeChoice, 'provider' | 'threads'>
): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [choice.provider],
    intraOpNumThreads: choice.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all'
  };
}

/**
 * The bytes of a graph for a chosen runtime: on the CPU provider with a block size, every
 * eligible Conv in blocked form (blocked-conv.ts); elsewhere the graph as compiled.
 */
export function encodeFor(graph: IrGraph, choice: Pick<RuntimeChoice, 'provider' | 'convBlock'>): Uint8Array {
  const block = choice.provider === 'cpu' ? (choice.convBlock ?? 1) : 1;
  return encodeModel(block > 1 ? blockConvs(graph, block) : graph);
}

/** Runs a one-output graph once with one thread on `provider`; its output's dims and values. */
async function runOnce(
  ort: OrtModule,
  run: { graph: IrGraph; provider: string; feeds: Record<string, { data: Float32Array; dims: number[] }> }
): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const { graph, feeds } = run;
  const session = await ort.InferenceSession.create(
    encodeModel(graph),
    sessionOptions({ provider: run.provider, threads: 1 })
  );
  try {
    const inputs = Object.fromEntries(
      Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)])
    );
    const out = (await session.run(inputs))[graph.outputs[0].name];
    return { dims: out.dims, data: out.data as Float32Array };
  } finally {
    await session.release();
  }
}

/**
 * The NCHWc block size of this CPU as ONNX Runtime reports it (ReorderInput pads 4 channels up to
 * one block), once the blocked form of a small convolution (its filter a graph input, a ReLU fused,
 * blocked-conv.ts) has computed what the plain Conv computes. 1, so graphs run as compiled, where
 * the contrib ops are missing or fail or disagree, or KD_LENS_ORT_NCHWC=0 turns them off.
 */
export async function convBlockSize(ort: OrtModule): Promise<number> {
  if (process.env.KD_LENS_ORT_NCHWC === '0') return 1;
  // The answer is the machine's: asked once per process (chooseRuntime runs for every stage and job).
  blockProbe ??= probeBlock(ort);
  return blockProbe;
}

let blockProbe: Promise<number> | null = null;

async function probeBlock(ort: OrtModule): Promise<number> {
  try {
    const probe: IrGraph = {
      name: 'nchwc_block',
      nodes: [{ op: 'ReorderInput', name: 'reorder', inputs: ['x'], outputs: ['y'], attrs: {}, domain: NCHWC_DOMAIN }],
      initializers: new Map(),
      inputs: [{ name: 'x', type: 'float', shape: [1, 4, 1, 1] }],
      outputs: [{ name: 'y', type: 'float' }]
    };
    const block = (
      await runOnce(ort, {
        graph: probe,
        provider: 'cpu',
        feeds: { x: { data: new Float32Array(4), dims: [1, 4, 1, 1] } }
      })
    ).dims[1];
    if (!(block >= 4 && block % 4 === 0)) return 1;
    // x [1, B, 5, 5] -> Conv (B + 3 filters, 3x3, pads 1, bias) -> Relu: plain and blocked must agree.
    const [c, o] = [block, block + 3];
    const conv: IrGraph = {
      name: 'nchwc_check',
      nodes: [
        { op: 'Conv', name: 'conv', inputs: ['x', 'w', 'b'], outputs: ['z'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', name: 'relu', inputs: ['z'], outputs: ['y'], attrs: {} }
      ],
      initializers: new Map(),
      inputs: [
        { name: 'x', type: 'float', shape: [1, c, 5, 5] },
        { name: 'w', type: 'float', shape: [o, c, 3, 3] },
        { name: 'b', type: 'float', shape: [o] }
      ],
      outputs: [{ name: 'y', type: 'float' }]
    };
    const values = (n: number, k: number): Float32Array =>
      Float32Array.from({ length: n }, (_, i) => ((i * k) % 7) - 3);
    const feeds = {
      x: { data: values(c * 25, 3), dims: [1, c, 5, 5] },
      w: { data: values(o * c * 9, 5).map((v) => v / 8), dims: [o, c, 3, 3] },
      b: { data: values(o, 2), dims: [o] }
    };
    const plain = await runOnce(ort, { graph: conv, provider: 'cpu', feeds });
    const blocked = await runOnce(ort, { graph: blockConvs(conv, block), provider: 'cpu', feeds });
    const agree =
      blocked.data.length === plain.data.length &&
      plain.data.every((v, i) => Math.abs(v - blocked.data[i]) <= 1e-4 * (1 + Math.abs(v)));
    return agree ? block : 1;
  } catch {
    return 1;
  }
}

/** Runs x + 1 on a provider; returns null when it gives 2, else the problem. */
async function selfCheck(ort: OrtModule, provider: string): Promise<string | null> {
  const graph: IrGraph = {
    name: 'self_check',
    nodes: [{ op: 'Add', name: 'add', inputs: ['x', 'one'], outputs: ['y'], attrs: {} }],
    initializers: new Map([['one', f32([1], [1])]]),
    inputs: [{ name: 'x', type: 'float', shape: [1] }],
    outputs: [{ name: 'y', type: 'float', shape: [1] }]
  };
  try {
    const out = await runOnce(ort, { graph, provider, feeds: { x: { data: Float32Array.of(1), dims: [1] } } });
    const y = out.data[0];
    return y === 2 ? null : `the self-check computed 1 + 1 = ${y}`;
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
}

/**
 * Chooses the execution provider for `device`: cpu always works where the runtime loads; gpu and
 * auto try the GPU providers the installed runtime lists, each falling back to CPU with the reason.
 * Returns an error string when the runtime itself cannot load.
 */
export async function chooseRuntime(
  device: DeviceRequest,
  threads: number
): Promise<RuntimeChoice | { error: string }> {
  const rt = await loadOrt();
  if ('error' in rt) return rt;
  const tried: string[] = [];
  if (device !== 'cpu') {
    const candidates = gpuProviders(rt.ort);
    if (candidates.length === 0) tried.push(`no GPU provider in this onnxruntime-node build (${process.platform})`);
    for (const provider of candidates) {
      const problem = await selfCheck(rt.ort, provider);
      if (!problem)
        return { ort: rt.ort, provider, threads, reason: `onnx ${provider} — requested by --device ${device}` };
      tried.push(`${provider}: ${problem}`);
    }
  }
  const problem = await selfCheck(rt.ort, 'cpu');
  if (problem) return { error: `onnxruntime-node's CPU provider failed its self-check: ${problem}` };
  const plural = `${threads} thread${threads === 1 ? '' : 's'}`;
  const why = device === 'cpu' ? plural : `${plural}; GPU unavailable: ${tried.join('; ')}`;
  const convBlock = await convBlockSize(rt.ort);
  return { ort: rt.ort, provider: 'cpu', threads, reason: `onnx cpu — ${why}`, convBlock };
}

/*
 * The compute page (what Electron's hidden compute window loads) in headless Debian chromium on SwiftShader's
 * WebGPU, driven over a real MessagePort by the host's ComputeClient: sigma steps, a quantification task and a
 * training stage match the same engine code on wasm in Node, and a refused adapter rejects init with the reason
 * (the host then keeps its own workers). Electron itself cannot run here; this is the page and the port protocol it runs.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { maxRelativeError } from '../../../helpers/tf';
import { initBackend } from '../../../../src/engine/tf/backend';
import { buildNetwork } from '../../../../src/engine/models/architectures';
import { sigmaSteps } from '../../../../src/engine/compute/serve';
import type { NetworkData, SigmaRequest } from '../../../../src/engine/compute/page-messages';
import { Rng } from '../../../../src/engine/util/random';
import { ComputeClient } from '../../../../src/engine/compute/client';
import { computeExecutor } from '../../../../src/engine/compute/page-executor';
import {
  inProcessExecutor,
  type ExecutorSetup,
  type TaskResult
} from '../../../../src/engine/experiment/quantify-executor';
import type { PortLike } from '../../../../src/engine/compute/page-messages';
import { DEFAULT_QUANTIFY } from '../../../../src/engine/knowledge/options';
import { decodePlain, encodePlain } from '../../../helpers/plain-codec';
import { tempDir, saveTinyCnn } from '../../../helpers/fixtures';
import type { Architecture } from '../../../../src/common/config';
import { join } from 'node:path';
import { tf } from '../../../../src/engine/tf/backend';
import { tapKernel } from '../../../../src/engine/models/architectures';
import { trainStage, type StageTrainer } from '../../../../src/engine/training/folder-stage';
import { computeTrainer } from '../../../../src/engine/compute/stage-host';
import type { ImageSet } from '../../../../src/engine/training/data';
// @ts-expect-error: a plain .mjs build script without types
import { computePageOptions } from '../../../../scripts/build-compute.mjs';

const CHROMIUM = process.env.KD_LENS_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader'
];
const ARCH: Architecture = {
  family: 'vgg',
  inputSize: 8,
  channels: [4, 6],
  convsPerStage: 1,
  fcUnits: [8, 6],
  dropout: 0
};
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED compute page tests: no chromium at ${CHROMIUM}`);

/** What the test reaches in the page (the node-side tsconfig has no DOM types). */
interface PageGlobals {
  MessageChannel: new () => {
    port1: { postMessage(m: unknown): void; onmessage: ((e: { data: unknown }) => void) | null };
    port2: unknown;
  };
  hostPort: { postMessage(m: unknown): void };
  kdToHost(m: unknown): void;
  encodePlain(v: unknown): unknown;
  decodePlain(v: unknown): unknown;
  postMessage(message: string, origin: string, transfer: unknown[]): void;
  ComputeClient: new (port: unknown) => PageGlobals['client'];
  client: {
    init(allowSoftware: boolean): Promise<{ reason: string; adapter: { route: string } }>;
    sigma(request: unknown): Promise<{ sigmaF2: number; sigma: Float32Array; trajectory: number[] }[]>;
  };
}

type Plain<T> = {
  [K in keyof T]: T[K] extends Float32Array | Int32Array
    ? number[]
    : T[K] extends Float32Array[]
      ? number[][]
      : T[K] extends NetworkData
        ? Plain<NetworkData>
        : T[K];
};

function stageSet(n: number, seed: number): ImageSet {
  const rng = new Rng(seed);
  return {
    n,
    size: 8,
    x: rng.fillNormal(new Float32Array(n * 8 * 8 * 3)),
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    ids: Array.from({ length: n }, (_, i) => `i${i}`),
    masks: null
  };
}

async function network(): Promise<NetworkData> {
  await initBackend('wasm');
  const model = buildNetwork(ARCH, 3, 9);
  const weights = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
  model.dispose();
  return { architecture: ARCH, numClasses: 3, weights };
}

/** Float arrays as number lists, to cross page.evaluate (the page turns them back). */
function plain<T extends object>(r: T): Plain<T> {
  const conv = (v: unknown): unknown =>
    v instanceof Float32Array || v instanceof Int32Array
      ? Array.from(v)
      : Array.isArray(v)
        ? v.map(conv)
        : v && typeof v === 'object'
          ? plain(v as object)
          : v;
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, conv(v)])) as Plain<T>;
}

describe.skipIf(!hasChromium)('the compute page on chromium WebGPU (SwiftShader)', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let sigma: SigmaRequest;

  beforeAll(async () => {
    const bundle = await build({
      ...computePageOptions,
      entryPoints: undefined,
      stdin: {
        contents: [
          "import './src/engine/compute/page/main';",
          "import { ComputeClient } from './src/engine/compute/client';",
          "import { encodePlain, decodePlain } from './tests/helpers/plain-codec';",
          'Object.assign(window, { ComputeClient, encodePlain, decodePlain });'
        ].join('\n'),
        resolveDir: resolve('.'),
        loader: 'ts'
      },
      write: false
    });
    const js = bundle.outputFiles![0].text;
    server = createServer((req, res) => {
      if (req.url === '/compute.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      else
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script src="/compute.js"></script>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      const channel = new g.MessageChannel();
      g.postMessage('kd-compute-port', '*', [channel.port2]);
      g.client = new g.ComputeClient(channel.port1);
    });
    const net = await network();
    const rng = new Rng(4);
    sigma = {
      network: net,
      tap: 'fc1',
      images: rng.fillNormal(new Float32Array(2 * 8 * 8 * 3)),
      seeds: [3, 4],
      options: { grid: 4, samples: 6, steps: 5, lr: 1e-3 }
    };
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  /** The host's end of a page MessagePort, bridged from Node into the page (made once, shared by the tests below). */
  let host: Promise<{ client: ComputeClient; ready: { reason: string } }> | null = null;
  function hostSide(): Promise<{ client: ComputeClient; ready: { reason: string } }> {
    host ??= (async () => {
      const listeners: ((e: { data: unknown }) => void)[] = [];
      await page.exposeFunction('kdToHost', (m: unknown) => listeners.forEach((l) => l({ data: decodePlain(m) })));
      await page.evaluate(() => {
        const g = globalThis as unknown as PageGlobals;
        const channel = new g.MessageChannel();
        g.postMessage('kd-compute-port', '*', [channel.port2]);
        g.hostPort = channel.port1;
        channel.port1.onmessage = (e) => g.kdToHost(g.encodePlain(e.data));
      });
      const port: PortLike = {
        postMessage: (m) =>
          void page.evaluate((x) => {
            const g = globalThis as unknown as PageGlobals;
            g.hostPort.postMessage(g.decodePlain(x));
          }, encodePlain(m)),
        addEventListener: (_type, listener) => void listeners.push(listener)
      };
      const client = new ComputeClient(port);
      return { client, ready: await client.init(true) };
    })();
    return host;
  }

  it('refuses the software adapter unless allowed, with the reason, then starts on it when allowed', async () => {
    const refused = await page.evaluate(async () => {
      const c = (globalThis as unknown as PageGlobals).client;
      return c.init(false).then(
        () => 'started',
        (e: Error) => e.message
      );
    });
    expect(refused).toMatch(/^webgpu: only a software adapter, .*swiftshader.*, which is slower than wasm/i);
    const ready = await page.evaluate(async () => (globalThis as unknown as PageGlobals).client.init(true));
    expect(ready.reason).toMatch(/^webgpu on .+ \(browser WebGPU, software\)/);
    expect(ready.adapter.route).toBe('browser');
    console.log(`compute page: ${ready.reason}`);
  }, 120_000);

  it('sigma steps match wasm within float tolerance', async () => {
    const expected = await sigmaSteps(sigma);
    const got = await page.evaluate(async (r) => {
      const f = (a: number[]) => new Float32Array(a);
      const req = { ...r, network: { ...r.network, weights: r.network.weights.map(f) }, images: f(r.images) };
      const c = (globalThis as unknown as PageGlobals).client;
      return (await c.sigma(req)).map((s) => ({
        sigmaF2: s.sigmaF2,
        sigma: Array.from(s.sigma),
        trajectory: s.trajectory
      }));
    }, plain(sigma));
    expect(got.length).toBe(2);
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(got[i].sigmaF2 - expected[i].sigmaF2) / expected[i].sigmaF2).toBeLessThan(1e-4);
      expect(maxRelativeError(got[i].sigma, expected[i].sigma!)).toBeLessThan(1e-3);
      expect(maxRelativeError(got[i].trajectory, expected[i].trajectory)).toBeLessThan(1e-4);
    }
  }, 120_000);

  it("runs an experiment's quantification tasks fed from the host over the port: the results of wasm at home", async () => {
    const tmp = tempDir();
    try {
      await initBackend('wasm');
      (await saveTinyCnn(tmp.path, 16, 5)).dispose();
      const rng = new Rng(8);
      const setup: ExecutorSetup = {
        images: [0, 1, 2].map((i) => ({
          name: `im${i}`,
          seed: 60 + i,
          data: rng.fillNormal(new Float32Array(16 * 16 * 3))
        })),
        size: 16,
        options: { ...DEFAULT_QUANTIFY, grid: 4, samples: 6, steps: 6, lr: 1e-3, relu: false },
        backend: null
      };
      const tasks = [
        { id: 'a', modelDir: tmp.path, tap: 'fc1', images: [0, 2] },
        { id: 'b', modelDir: tmp.path, tap: 'conv', images: [1] }
      ];
      const collect = async (factory: typeof inProcessExecutor): Promise<TaskResult[]> => {
        const out: TaskResult[] = [];
        const ex = await factory(setup);
        await ex.run(tasks, async (r) => void out.push(r));
        await ex.close();
        return out;
      };
      const atHome = await collect(inProcessExecutor);
      const { client, ready } = await hostSide();
      const steps: number[] = [];
      const factory = computeExecutor(client, ready.reason);
      const ex = await factory(setup);
      expect(ex.description).toMatch(/^compute page \(webgpu on /);
      const onPage: TaskResult[] = [];
      await ex.run(
        tasks,
        async (r) => void onPage.push(r),
        (_id, step) => void steps.push(step)
      );
      expect(onPage.map((r) => r.id)).toEqual(['a', 'b']);
      expect(steps.length).toBeGreaterThan(0);
      for (let t = 0; t < tasks.length; t++) {
        expect(onPage[t].results.length).toBe(tasks[t].images.length);
        onPage[t].results.forEach((r, i) => {
          const home = atHome[t].results[i];
          expect(r.name).toBe(home.name);
          expect(home.effective).toBe(true);
          expect(Math.abs(r.sigmaF2 - home.sigmaF2) / home.sigmaF2).toBeLessThan(1e-4);
          expect(maxRelativeError(r.entropy!, home.entropy!)).toBeLessThan(1e-3);
        });
      }
    } finally {
      tmp.cleanup();
    }
  }, 180_000);

  it('trains a stage sent by the host: the weights, losses and path length of the same stage on wasm at home; the host writes the checkpoints and resume files', async () => {
    const tmp = tempDir();
    try {
      await initBackend('wasm');
      const net = await network();
      const run = async (trainer: StageTrainer, dir: string) => {
        const model = buildNetwork(ARCH, 3, 0);
        model.setWeights(model.getWeights().map((w, i) => tf.tensor(net.weights[i], w.shape)));
        const saved: number[] = [];
        const result = await trainer({
          name: 'tiny stage',
          model,
          trainable: model.trainableWeights,
          objective: { kind: 'labels', numClasses: 3 },
          config: { epochs: 1, lr: 0.05, lrEnd: 0.05, batchSize: 4 },
          momentum: 0.9,
          weightDecay: 1e-3,
          augment: { flip: true, cropPad: 1 },
          train: stageSet(8, 11),
          val: stageSet(4, 12),
          seed: 7,
          tapKernel: tapKernel(model, 'fc1'),
          checkpoints: [0, 1],
          dir,
          saveCheckpoint: async (epoch) => void saved.push(epoch)
        });
        const weights = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
        model.dispose();
        return { result, weights, saved };
      };
      const home = await run(trainStage, join(tmp.path, 'home'));
      const { client } = await hostSide();
      const onPage = await run(computeTrainer(client), join(tmp.path, 'page'));
      expect(onPage.saved).toEqual([0, 1]);
      expect(Math.abs(onPage.result.logs[0].loss - home.result.logs[0].loss) / home.result.logs[0].loss).toBeLessThan(
        1e-4
      );
      expect(
        Math.abs(onPage.result.logs[0].valLoss! - home.result.logs[0].valLoss!) / home.result.logs[0].valLoss!
      ).toBeLessThan(1e-4);
      expect(
        Math.abs(onPage.result.pathLength[1]! - home.result.pathLength[1]!) / home.result.pathLength[1]!
      ).toBeLessThan(1e-3);
      for (let i = 0; i < home.weights.length; i++) {
        expect(maxRelativeError(home.weights[i], net.weights[i]), `weight ${i} moved`).toBeGreaterThan(1e-4);
        expect(maxRelativeError(onPage.weights[i], home.weights[i]), `weight ${i}`).toBeLessThan(1e-4);
      }
      expect(existsSync(join(tmp.path, 'page', 'resume.json'))).toBe(true);
      expect(existsSync(join(tmp.path, 'page', 'resume-1', 'weights.bin'))).toBe(true);
    } finally {
      tmp.cleanup();
    }
  }, 180_000);
});

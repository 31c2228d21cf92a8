/*
 * The workspace's ONNX models through the KdApi service and over HTTP: an uploaded .onnx file is
 * checked and moved into models/ under a free name (a wrong extension, an unreadable file or two
 * files refused naming the file, nothing left behind); describeOnnxModel reads the tiny PyTorch
 * export (input, classifier, candidate taps) and runs the whole pre-training check with a tap and a
 * dataset; a path outside models/ is refused before anything is read (400 by the schema, 403 for a
 * link out, 404 for a missing file), never a 500.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CallerError } from '../../../src/common/errors';
import { startTestServer, type TestServer } from '../../helpers/serve';

const FIX = join(__dirname, '../../fixtures');
const TINY = readFileSync(join(FIX, 'onnx-arch', 'tiny-arch.onnx'));

describe('ONNX models of the workspace', () => {
  let t: TestServer;
  const service = () => t.host.service;
  /** Uploads files the way the browser does (uploadStart, one part each), then hands them to uploadOnnxModel. */
  const upload = async (files: { path: string; data: Uint8Array }[]) => {
    const total = files.reduce((n, f) => n + f.data.length, 0);
    const { uploadId } = await service().uploadStart({ totalBytes: total });
    for (const f of files)
      await service().uploadPart({
        uploadId,
        path: f.path,
        offset: 0,
        data: Buffer.from(f.data).toString('base64'),
        fileBytes: f.data.length
      });
    return service().uploadOnnxModel({ uploadId });
  };
  const refusal = async (p: Promise<unknown>, status: number, message: RegExp): Promise<void> => {
    const err = await p.then(
      () => null,
      (e: unknown) => e
    );
    expect(err).toBeInstanceOf(CallerError);
    expect(`${(err as CallerError).status} ${(err as Error).message}`).toMatch(
      new RegExp(`^${status} ${message.source}`)
    );
  };
  const post = async (method: string, body: unknown) => {
    const url = new URL(t.server.url);
    const res = await fetch(`${url.origin}/api/${method}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.server.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    });
    return { status: res.status, body: (await res.json()) as { result?: unknown; error?: string } };
  };

  beforeAll(async () => {
    t = await startTestServer({
      prepare: (ws) => cpSync(join(FIX, 'study', 'dataset'), join(ws, 'datasets', 'torch-shapes'), { recursive: true })
    });
  });
  afterAll(async () => t?.close());

  it('takes an uploaded .onnx into models/ under a free, safe name and lists it', async () => {
    expect(await service().listOnnxModels()).toEqual([]);
    expect(await upload([{ path: 'My net (v2).onnx', data: TINY }])).toEqual({
      path: 'models/My-net-v2-.onnx',
      bytes: TINY.length
    });
    expect(await upload([{ path: 'nets/My net (v2).onnx', data: TINY }])).toEqual({
      path: 'models/My-net-v2--2.onnx',
      bytes: TINY.length
    });
    expect(readFileSync(join(t.workspace, 'models', 'My-net-v2-.onnx')).equals(TINY)).toBe(true);
    expect((await service().listOnnxModels()).map((m) => m.path)).toEqual([
      'models/My-net-v2--2.onnx',
      'models/My-net-v2-.onnx'
    ]);
    // The uploads are gone once taken.
    expect(readdirSync(join(t.workspace, 'uploads')).filter((d) => d.startsWith('up-'))).toEqual([]);
  });

  it('refuses a wrong extension, an unreadable model and two files, naming the file, and keeps nothing', async () => {
    await refusal(upload([{ path: 'net.pt', data: TINY }]), 400, /net\.pt: not an \.onnx file/);
    await refusal(
      upload([{ path: 'broken.onnx', data: TINY.subarray(0, 700) }]),
      400,
      /broken\.onnx: not a readable ONNX file/
    );
    await refusal(
      upload([{ path: 'text.onnx', data: Buffer.from('{"this": "is json"}') }]),
      400,
      /text\.onnx: not (a readable ONNX file|an ONNX model)/
    );
    await refusal(
      upload([
        { path: 'a.onnx', data: TINY },
        { path: 'b.onnx', data: TINY }
      ]),
      400,
      /upload one file, not 2/
    );
    expect(readdirSync(join(t.workspace, 'models')).sort()).toEqual(['My-net-v2--2.onnx', 'My-net-v2-.onnx']);
    expect(readdirSync(join(t.workspace, 'uploads')).filter((d) => d.startsWith('up-'))).toEqual([]);
  });

  it('describes the tiny export: input, the last Gemm as classifier, the taps from input to classifier', async () => {
    const info = await service().describeOnnxModel({ path: 'models/My-net-v2-.onnx' });
    expect(info.input).toEqual({ name: 'input', channels: 3, height: 16, width: 16 });
    expect(info.classifier).toEqual({ node: '/fc/Gemm', op: 'Gemm', features: 6, outputs: 5 });
    expect(info.classifierError).toBeNull();
    expect(info.classifiers).toEqual(['/fc/Gemm']);
    expect(info.taps.map((x) => `${x.name} ${x.op}`)).toEqual([
      '/conv1/Conv Conv',
      '/bn1/BatchNormalization BatchNormalization',
      '/Relu Relu',
      '/pool/MaxPool MaxPool',
      '/conv2/Conv Conv',
      '/Relu_1 Relu',
      '/gap/GlobalAveragePool GlobalAveragePool',
      '/Flatten Flatten',
      '/fc/Gemm Gemm'
    ]);
    expect(info.suggestedTap).toBe('/Relu_1');
    expect(info.problem).toBeUndefined();
  });

  it('describes SqueezeNet: its 1x1 convolution to classes as classifier, the taps stopping at it', async () => {
    const data = readFileSync(join(FIX, 'onnx', 'families', 'squeezenet.onnx'));
    const { path } = await upload([{ path: 'squeezenet.onnx', data }]);
    const info = await service().describeOnnxModel({ path });
    expect(info.classifier).toEqual({ node: '/classifier/classifier.1/Conv', op: 'Conv', features: 32, outputs: 10 });
    expect(info.classifiers).toEqual(['/classifier/classifier.1/Conv']);
    expect(info.taps.at(-1)!.name).toBe('/classifier/classifier.1/Conv');
    expect(info.suggestedTap).toBe('/features/features.6/expand3x3_activation/Relu');
  });

  it('runs the whole check with a tap and the dataset: passes, or says what the run would refuse', async () => {
    const path = 'models/My-net-v2-.onnx';
    const ask = (over: Record<string, unknown>) =>
      service().describeOnnxModel({ path, tap: '/Relu_1', datasetId: 'torch-shapes', ...over });
    expect((await ask({})).problem).toBeNull();
    expect((await ask({ pretrained: true, classifier: 'logits' })).problem).toBeNull();
    expect((await ask({ tap: '/nowhere' })).problem).toMatch(
      /^models\/My-net-v2-\.onnx: tap: no node or output named '\/nowhere'/
    );
    const named = await ask({ classifier: '/Relu_1' });
    expect(named.classifier).toBeNull();
    expect(named.classifierError).toMatch(
      /node '\/Relu_1' is a Relu; the classifier to replace must be a Gemm or MatMul/
    );
    expect(named.problem).toMatch(/the classifier to replace must be a Gemm or MatMul/);
    await refusal(ask({ datasetId: 'nope' }), 404, /.*nope/);
  });

  it('refuses a model that stops short of the run: a Sin op names its node, another size names both sizes', async () => {
    writeFileSync(join(t.workspace, 'models', 'sin.onnx'), readFileSync(join(FIX, 'onnx-arch', 'sin-op.onnx')));
    writeFileSync(join(t.workspace, 'models', 'big.onnx'), readFileSync(join(FIX, 'onnx-arch', 'size-24.onnx')));
    const ask = (path: string) => service().describeOnnxModel({ path, tap: '/Relu', datasetId: 'torch-shapes' });
    expect((await ask('models/sin.onnx')).problem).toMatch(
      /^models\/sin\.onnx: node '\/Sin' is a Sin, an op without a gradient rule/
    );
    const big = await ask('models/big.onnx');
    expect(big.input).toMatchObject({ height: 24, width: 24 });
    expect(big.problem).toMatch(/fixed at 24x24 pixels, but dataset 'torch-shapes' has 16x16 images/);
  });

  it('answers a model the trainer cannot take apart (an untrained export whose batch norm shares weights) with a refusal naming the file', async () => {
    writeFileSync(
      join(t.workspace, 'models', 'untrained.onnx'),
      readFileSync(join(FIX, 'onnx-arch', 'untrained-bn.onnx'))
    );
    const r = await post('describeOnnxModel', {
      path: 'models/untrained.onnx',
      tap: '/2/Relu',
      datasetId: 'torch-shapes'
    });
    expect(r.status).toBe(200);
    expect((r.body.result as { problem: string }).problem).toMatch(
      /^models\/untrained\.onnx: node '\/1\/BatchNormalization': its weight or running statistic '1\.running_mean' is not a weight of its own/
    );
    expect(t.logged).toEqual([]);
  });

  it('keeps paths inside models/: 400 for another shape, 403 for a link out, 404 for a missing file, 422 for a damaged one', async () => {
    for (const path of [
      '../models/x.onnx',
      'models/../datasets/x.onnx',
      'models/sub/x.onnx',
      '/etc/x.onnx',
      'models/x.pt'
    ]) {
      const r = await post('describeOnnxModel', { path });
      expect([r.status, r.body.error]).toEqual([400, expect.stringMatching(/path/)]);
    }
    mkdirSync(join(t.root, 'outside'), { recursive: true });
    writeFileSync(join(t.root, 'outside', 'net.onnx'), TINY);
    symlinkSync(join(t.root, 'outside', 'net.onnx'), join(t.workspace, 'models', 'out.onnx'));
    let r = await post('describeOnnxModel', { path: 'models/out.onnx' });
    expect([r.status, r.body.error]).toEqual([403, "models/out.onnx: leads outside the workspace's models/ folder"]);
    r = await post('describeOnnxModel', { path: 'models/missing.onnx' });
    expect(r.status).toBe(404);
    writeFileSync(join(t.workspace, 'models', 'cut.onnx'), TINY.subarray(0, 500));
    r = await post('describeOnnxModel', { path: 'models/cut.onnx' });
    expect([r.status, r.body.error]).toEqual([
      422,
      expect.stringMatching(/^models\/cut\.onnx: not a readable ONNX file/)
    ]);
    // A link is not listed as a model; the good files are.
    expect((await post('listOnnxModels', {})).body.result).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ path: 'models/out.onnx' })])
    );
    r = await post('uploadOnnxModel', { uploadId: 'up-nope' });
    expect(r.status).toBe(404);
    expect(existsSync(join(t.workspace, 'models', 'x.onnx'))).toBe(false);
  });
});

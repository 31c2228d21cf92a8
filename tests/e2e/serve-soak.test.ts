/*
 * A bounded soak of the built `kd-lens serve` (issue 21): for KD_LENS_SOAK_S seconds (default 20)
 * eight clients send a mixed stream of valid requests and hostile ones (malformed paths, missing or
 * wrong tokens, other Host headers, bad bodies, path escapes, zip bombs of both kinds, scattered
 * upload parts, relative paths, links). The server process must stay up, answer every valid request
 * 2xx and every hostile one 4xx (never 5xx, never a dropped connection), keep its memory bounded,
 * sweep the upload a crashed server left, and leave the workspace as it was: the valid requests
 * here read, or upload and cancel.
 */
import { describe, expect, it, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, existsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { request } from 'node:http';
import WebSocket from 'ws';
import { importDataset } from '../../src/engine/data';
import { tempDir } from '../helpers/fixtures';
import { writeImage } from '../helpers/data-fixtures';
import { deflatedZeros, writeZip } from '../helpers/zip-writer';

const ROOT = join(__dirname, '..', '..');
const SECONDS = Number(process.env.KD_LENS_SOAK_S ?? 20);
const CLIENTS = 8;

interface Sent {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}
interface Got {
  status: number;
  json: { result?: unknown; error?: string };
}

/** The workspace's files and their hashes (uploads/ must be empty and is left out). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      const rel = relative(dir, full);
      if (rel === 'uploads') continue;
      if (e.isDirectory()) walk(full);
      else out[rel] = e.isSymbolicLink() ? 'link' : createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

const rssOf = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};

describe('kd-lens serve under a mixed stream of valid and hostile requests', () => {
  const tmp = tempDir('kd-lens-soak-');
  const workspace = join(tmp.path, 'workspace');
  let server: ChildProcess | null = null;
  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    tmp.cleanup();
  });

  it(`stays up, bounded and correct for ${SECONDS} s`, async () => {
    const src = join(tmp.path, 'src');
    for (const c of ['ant', 'bee'])
      for (let i = 0; i < 3; i++) await writeImage(join(src, c, `${i}.png`), 10, 10, (x, y) => [x * 20, y * 20, i]);
    await importDataset({ workspace, format: 'folder', src, name: 'tiny', size: 8 });
    mkdirSync(join(tmp.path, 'outside'));
    symlinkSync(join(tmp.path, 'outside'), join(workspace, 'link-out'));
    const manifest = JSON.parse(readFileSync(join(workspace, 'datasets', 'tiny', 'dataset.json'), 'utf8')) as {
      samples: { id: string }[];
    };
    const sampleId = manifest.samples[0].id;
    const before = snapshot(workspace);
    // What a crashed server leaves: swept at start.
    mkdirSync(join(workspace, 'uploads', 'up-crashed', 'files'), { recursive: true });
    writeFileSync(join(workspace, 'uploads', 'up-crashed', 'files', 'big.bin'), Buffer.alloc(1 << 20));

    const proc = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'kd-lens.cjs'), 'serve', '--workspace', workspace, '--no-demo', '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe']
      }
    );
    server = proc;
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += d));
    const info = await new Promise<{ port: number; token: string }>((resolve, reject) => {
      proc.stdout!.once('data', (d) => resolve(JSON.parse(String(d).split('\n')[0])));
      proc.once('exit', (code) => reject(new Error(`kd-lens serve exited with ${code}: ${stderr}`)));
    });
    const { port, token } = info;

    const send = (r: Sent): Promise<Got> =>
      new Promise((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: r.path, method: r.method ?? 'GET', headers: r.headers },
          (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => {
              let json = {};
              try {
                json = JSON.parse(text);
              } catch {
                // a file or a plain-text refusal
              }
              resolve({ status: res.statusCode ?? 0, json });
            });
          }
        );
        req.on('error', reject);
        req.end(r.body);
      });
    const api = (method: string, body: unknown, headers: Record<string, string> = {}): Promise<Got> =>
      send({
        method: 'POST',
        path: `/api/${method}`,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body)
      });
    const upload = async (name: string, data: Buffer): Promise<string | null> => {
      const s = await api('uploadStart', { totalBytes: data.length });
      if (s.status === 429) return null; // other clients hold the upload slots
      const { uploadId } = s.json.result as { uploadId: string };
      await api('uploadPart', { uploadId, path: name, offset: 0, data: data.toString('base64') });
      return uploadId;
    };

    const zeros = await deflatedZeros(100);
    const ratioBomb = writeZip([{ name: 'zeros.bin', deflated: zeros, size: 100 * 1024 ** 2 }]);
    const liar = writeZip([{ name: 'small.txt', deflated: zeros, size: 1000 }]);
    const honest = writeZip([{ name: 'set/a.txt', data: 'hello' }]);

    let bombs = 0;
    type Case = () => Promise<Got | Got[]>;
    const valid: Case[] = [
      () => api('listDatasets', {}),
      () => api('listJobs', {}),
      () => api('getDataset', { id: 'tiny' }),
      () => api('readMask', { datasetId: 'tiny', sampleId }),
      () => api('getAppInfo', {}),
      () => api('listExperiments', {}),
      () => send({ path: '/' }),
      async () => {
        const id = await upload('a.zip', honest);
        return id ? api('uploadCancel', { uploadId: id }) : { status: 200, json: {} };
      }
    ];
    const hostile: Case[] = [
      () => send({ path: '/%E0%A4%A' }),
      () => send({ path: '//' }),
      () => send({ path: '/..%2F..%2Fetc%2Fpasswd' }),
      () => send({ method: 'POST', path: '/api/listJobs', body: '{}' }),
      () => send({ method: 'POST', path: `/api/listJobs?token=${token}`, body: '{}' }),
      () => api('listJobs', {}, { Host: 'rebind.example' }),
      () => api('listJobs', '{not json'),
      () => api('getDataset', { id: '../../etc' }),
      () => api('noSuchMethod', {}),
      () => api('importDataset', { format: 'folder', src: join(workspace, 'link-out'), name: 'x' }),
      () => api('importDataset', { format: 'folder', src: '..', name: 'x' }),
      () => api('chooseFolder', { purpose: 'import', path: '..' }),
      () => api('writeMask', { datasetId: 'tiny', sampleId, width: 8, height: 8, data: 'AAAA' }),
      () => api('renameDataset', { id: 'tiny', name: 'x'.repeat(200) }),
      () => api('getDataset', { id: 'nope' }),
      async () => {
        const s = await api('uploadStart', { totalBytes: 10 });
        if (s.status === 429) return { status: 400, json: {} };
        const { uploadId } = s.json.result as { uploadId: string };
        const far = await api('uploadPart', { uploadId, path: 'x', offset: 3e9, data: 'YQ==' });
        const nul = await api('uploadPart', { uploadId, path: 'a\0b', offset: 0, data: 'YQ==' });
        const early = await api('uploadFinish', { uploadId, request: { format: 'folder', name: 'x' } });
        await api('uploadCancel', { uploadId });
        return [far, nul, early];
      },
      async () => {
        const bomb = Math.random() < 0.5 ? ratioBomb : liar;
        const id = await upload('bomb.zip', bomb);
        if (!id) return { status: 400, json: {} };
        bombs++;
        return api('uploadFinish', { uploadId: id, request: { format: 'folder', name: 'bomb' } });
      },
      () =>
        new Promise<Got>((resolve) => {
          const sock = new WebSocket(`ws://127.0.0.1:${port}/api/events`);
          sock.on('unexpected-response', (_q, res) => resolve({ status: res.statusCode ?? 0, json: {} }));
          sock.on('open', () => (sock.close(), resolve({ status: 101, json: {} })));
          sock.on('error', () => resolve({ status: 0, json: {} }));
        })
    ];

    const latencies: number[] = [];
    const wrong: string[] = [];
    let requests = 0;
    let hostileCount = 0;
    let peak = rssOf(proc.pid!);
    const startRss = peak;
    const probe = setInterval(() => proc.exitCode === null && (peak = Math.max(peak, rssOf(proc.pid!))), 100);
    const deadline = Date.now() + SECONDS * 1000;
    const client = async (k: number): Promise<void> => {
      let n = k;
      while (Date.now() < deadline) {
        const bad = n++ % 3 === 0;
        const list = bad ? hostile : valid;
        const pick = list[Math.floor(Math.random() * list.length)];
        const t0 = performance.now();
        const got = await pick().catch((e: Error) => ({ status: -1, json: { error: e.message } }) as Got);
        latencies.push(performance.now() - t0);
        for (const g of Array.isArray(got) ? got : [got]) {
          requests++;
          if (bad) hostileCount++;
          const ok = bad ? g.status >= 400 && g.status < 500 : g.status >= 200 && g.status < 300;
          if (!ok) wrong.push(`${bad ? 'hostile' : 'valid'} #${list.indexOf(pick)}: ${g.status} ${g.json.error ?? ''}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(k)));
    clearInterval(probe);

    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)];
    const numbers = {
      seconds: SECONDS,
      requests,
      hostile: hostileCount,
      zipBombs: bombs,
      wrongAnswers: wrong.length,
      rssStartMB: Math.round(startRss / 1024 ** 2),
      rssPeakMB: Math.round(peak / 1024 ** 2),
      p50ms: Math.round(latencies[Math.floor(latencies.length / 2)]),
      p99ms: Math.round(p99)
    };
    console.log(`serve soak: ${JSON.stringify(numbers)}`);
    expect(proc.exitCode).toBeNull();
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(stderr).not.toMatch(/failed:/); // the catch-all logged nothing: no handler broke
    expect(peak).toBeLessThan(startRss + 300 * 1024 ** 2);
    expect((await api('listJobs', {})).status).toBe(200);
    expect(existsSync(join(workspace, 'uploads')) ? readdirSync(join(workspace, 'uploads')) : []).toEqual([]);
    expect(snapshot(workspace)).toEqual(before);
    expect(statSync(join(tmp.path, 'outside')).isDirectory()).toBe(true);
    expect(readdirSync(join(tmp.path, 'outside'))).toEqual([]);
  });
});

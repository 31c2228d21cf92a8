/*
 * The job host's side of a compute page's port: one promise per request, matched by id. A failed start says why
 * (so the host keeps its own workers and shows the reason); a device lost on the page rejects with
 * ComputeDeviceLost, which the host reports like a lost device at home (the run resumes on any backend).
 */
import type {
  FromCompute,
  PortLike,
  QuantifyTaskRequest,
  SigmaRequest,
  StageEvent,
  ToCompute,
  TrainStageRequest,
  TrainStageResult
} from './page-messages';
import { CancelledError } from '../training/stage-spec';
import type { SigmaResult } from '../knowledge/sigma';
import type { AdapterInfo } from '../tf/webgpu';

export class ComputeDeviceLost extends Error {}

/** A request before the client numbers it. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

type Pending = {
  resolve: (m: FromCompute) => void;
  reject: (e: Error) => void;
  onStep?: (step: number, total: number) => void;
  onEvent?: (e: StageEvent) => void;
};

export class ComputeClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly port: PortLike) {
    port.addEventListener('message', (e) => {
      const m = e.data as FromCompute;
      const p = typeof m === 'object' && m !== null ? this.pending.get(m.id) : undefined;
      if (!p) return;
      if (m.type === 'step') {
        p.onStep?.(m.step, m.total);
        return;
      }
      if (m.type === 'stage-event') {
        p.onEvent?.(m.event);
        return;
      }
      this.pending.delete(m.id);
      if (m.type === 'failed')
        p.reject(
          m.deviceLost
            ? new ComputeDeviceLost(m.message)
            : m.cancelled
              ? new CancelledError(m.message)
              : new Error(m.message)
        );
      else p.resolve(m);
    });
    port.start?.();
  }

  private ask(
    message: WithoutId<ToCompute>,
    onStep?: (step: number, total: number) => void,
    extra: { onEvent?: (e: StageEvent) => void; signal?: AbortSignal } = {}
  ): Promise<FromCompute> {
    const id = this.nextId++;
    const { onEvent, signal } = extra;
    const cancel = (): void => this.port.postMessage({ type: 'cancel', id } satisfies ToCompute);
    signal?.addEventListener('abort', cancel, { once: true });
    return new Promise<FromCompute>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onStep, onEvent });
      this.port.postMessage({ ...message, id });
      if (signal?.aborted) cancel();
    }).finally(() => signal?.removeEventListener('abort', cancel));
  }

  /** Starts WebGPU on the page; rejects with the reason it cannot be used, or when the page does not answer in time. */
  async init(
    allowSoftware = false,
    timeoutMs = 60_000
  ): Promise<{ backend: string; reason: string; adapter: AdapterInfo | null }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the compute page did not answer within ${timeoutMs / 1000} s`)),
        timeoutMs
      );
    });
    const m = await Promise.race([this.ask({ type: 'init', allowSoftware }), late]).finally(() => clearTimeout(timer));
    if (m.type !== 'ready') throw new Error(`compute page answered '${m.type}' to init`);
    return { backend: m.backend, reason: m.reason, adapter: m.adapter };
  }

  async sigma(request: SigmaRequest): Promise<SigmaResult[]> {
    const m = await this.ask({ type: 'sigma', request });
    if (m.type !== 'sigma') throw new Error(`compute page answered '${m.type}' to sigma`);
    return m.results;
  }

  /** One experiment quantification task (the host read the checkpoint); onStep reports optimisation steps. */
  async quantifyTask(
    request: QuantifyTaskRequest,
    onStep?: (step: number, total: number) => void
  ): Promise<SigmaResult[]> {
    const m = await this.ask({ type: 'quantify-task', request }, onStep);
    if (m.type !== 'sigma') throw new Error(`compute page answered '${m.type}' to quantify-task`);
    return m.results;
  }

  /** A whole training stage on the page; onEvent gets its progress, checkpoints and resume data in order. */
  async trainStage(
    request: TrainStageRequest,
    onEvent: (e: StageEvent) => void,
    signal?: AbortSignal
  ): Promise<TrainStageResult> {
    const m = await this.ask({ type: 'train-stage', request }, undefined, { onEvent, signal });
    if (m.type !== 'train-stage') throw new Error(`compute page answered '${m.type}' to train-stage`);
    return m.result;
  }

  /** Rejects every open request (the page closed or crashed). */
  close(reason: string): void {
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }
}

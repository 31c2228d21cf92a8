/*
 * One engine process of a cluster worker: the existing quantification worker (out/worker/index.cjs)
 * run as a child, so the heavy work never blocks the worker's event loop and BullMQ's lock renewal
 * never starves. Re-initialised when a job of another run (another setup) arrives; restarted after
 * it dies, and the job it was running fails with the reason.
 */
import type { ExecutorSetup, QuantifyTask, TaskResult } from '../../engine/experiment/quantify-executor';
import type { FromWorker, SpawnWorker, WorkerHandle } from '../process-messages';
import type { SeedSpec, SeedStages } from './seed-train';
import type { ExperimentEvent } from '../../common/events';

export class EngineChild {
  private handle: WorkerHandle | null = null;
  private setupKey: string | null = null;
  private listener: ((m: FromWorker) => void) | null = null;
  private onDeath: ((code: number | null) => void) | null = null;
  /** The engine it reported (e.g. 'wasm'). */
  backend = '';

  constructor(private readonly spawn: SpawnWorker) {}

  private start(): WorkerHandle {
    const h = this.spawn();
    h.onMessage((m) => this.listener?.(m));
    h.onExit((code) => {
      if (this.handle !== h) return; // stopped on purpose
      this.handle = null;
      this.setupKey = null;
      this.onDeath?.(code);
    });
    this.handle = h;
    return h;
  }

  private exchange<T>(
    send: () => void,
    pick: (m: FromWorker) => T | undefined,
    onStep?: (m: FromWorker) => void
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.onDeath = (code) =>
        reject(new Error(`the engine process exited unexpectedly (code ${code}); it may have run out of memory`));
      this.listener = (m) => {
        if (m.type === 'error') reject(new Error(m.message));
        else if (m.type === 'step' || m.type === 'seed-event') onStep?.(m);
        else {
          const v = pick(m);
          if (v !== undefined) resolve(v);
        }
      };
      send();
    }).finally(() => {
      this.listener = null;
      this.onDeath = null;
    });
  }

  /** Makes sure the process runs with this setup (by key). */
  async ensure(key: string, setup: () => ExecutorSetup): Promise<void> {
    if (this.handle && this.setupKey === key) return;
    const h = this.handle ?? this.start();
    const s = setup();
    const ready = await this.exchange(
      () => h.send({ type: 'init', backend: s.backend, setup: s }),
      (m) => (m.type === 'ready' ? m : undefined)
    );
    this.backend = ready.backend;
    this.setupKey = key;
  }

  run(task: QuantifyTask, onStep: (step: number, total: number) => void): Promise<TaskResult> {
    const h = this.handle;
    if (!h) return Promise.reject(new Error('the engine process is not running'));
    return this.exchange(
      () => h.send({ type: 'task', task }),
      (m) => (m.type === 'result' ? m.result : undefined),
      (m) => m.type === 'step' && onStep(m.step, m.total)
    );
  }

  /** Trains one seed (student and baseline) in a fresh engine process, which ends afterwards. */
  trainSeed(spec: SeedSpec, onEvent: (e: ExperimentEvent) => void): Promise<SeedStages> {
    this.stop();
    const h = this.start();
    return this.exchange(
      () => h.send({ type: 'train-seed', spec }),
      (m) => (m.type === 'trained' ? m.stages : undefined),
      (m) => m.type === 'seed-event' && onEvent(m.event)
    ).finally(() => this.stop());
  }

  stop(): void {
    const h = this.handle;
    this.handle = null;
    this.setupKey = null;
    if (h) {
      h.send({ type: 'exit' });
      setTimeout(() => h.kill(), 2000).unref();
    }
  }
}

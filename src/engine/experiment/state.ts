/*
 * state.json: which stages of an experiment are done. A restarted run skips what is done and
 * resumes the stage in progress from its own checkpoint. Also what ran each quantification task (the
 * frozen config keeps what was asked). Written atomically after every change.
 */
import { StateSchema, type EarlyStop, type ExperimentState, type StageState } from '../../common/record-schemas';
import { writeJsonAtomic } from '../store/atomic';
import { readRecord } from './record';

export class StateStore {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    readonly value: ExperimentState
  ) {}

  static async create(file: string, id: string): Promise<StateStore> {
    const now = new Date().toISOString();
    const store = new StateStore(file, {
      version: 1,
      id,
      status: 'created',
      createdAt: now,
      updatedAt: now,
      backend: null,
      stages: {},
      error: null
    });
    await store.save();
    return store;
  }

  static async load(file: string): Promise<StateStore> {
    return new StateStore(file, await readRecord(file, StateSchema));
  }

  isDone(stage: string): boolean {
    const s = this.value.stages[stage]?.status;
    return s === 'done' || s === 'skipped';
  }

  async mark(
    stage: string,
    status: StageState['status'],
    extra: { seconds?: number; message?: string; engine?: string } = {}
  ): Promise<void> {
    this.value.stages[stage] = { status, ...extra };
    await this.save();
  }

  async setStatus(status: ExperimentState['status'], error: string | null = null): Promise<void> {
    this.value.status = status;
    this.value.error = error;
    await this.save();
  }

  /** Records the engine that ran one quantification task (and, the first time, among the engines that ran). */
  async recordEngine(taskId: string, engine: string): Promise<void> {
    const q = this.value.quantification ?? { engines: [], tasks: {} };
    q.tasks[taskId] = engine;
    if (!q.engines.includes(engine)) q.engines.push(engine);
    this.value.quantification = q;
    await this.save();
  }

  /** Records an early stop (null clears it). */
  async setStop(stop: EarlyStop | null): Promise<void> {
    if (stop) this.value.stop = stop;
    else delete this.value.stop;
    await this.save();
  }

  /** Records checks that a forced resume continues past. */
  async force(ids: readonly string[]): Promise<void> {
    this.value.forced = [...new Set([...(this.value.forced ?? []), ...ids])];
    await this.save();
  }

  async setBackend(name: string): Promise<void> {
    this.value.backend = name;
    await this.save();
  }

  /** Writes the state as it is now; writes run one after another, so a later state never loses to an earlier one. */
  async save(): Promise<void> {
    this.value.updatedAt = new Date().toISOString();
    const snapshot = structuredClone(this.value);
    const write = this.writing.then(() => writeJsonAtomic(this.file, snapshot));
    this.writing = write.catch(() => undefined);
    await write;
  }
}

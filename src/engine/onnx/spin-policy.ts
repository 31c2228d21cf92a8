/*
 * Whether a training session's threads spin while they wait for the next op of a step (ONNX
 * Runtime's allow_spinning). A thread that blocks instead must be woken at every op the step runs
 * in parallel: on an otherwise idle machine spinning makes a 2-thread step 10-15 % faster, and
 * PyTorch's OpenMP threads spin too. On a machine whose cores other processes want, spinning
 * threads take the time those processes need and the step gets slower (64 px reference step with
 * two busy processes on the two cores: 58-74 ms spinning against 41-51 ms blocking).
 *
 * So, unless KD_LENS_ORT_SPIN fixes it ('1' always, '0' never), the engine spins while the cores
 * its threads do not use cover the other processes' work, measured from the machine's CPU times
 * (os.cpus) less this process's own (process.cpuUsage), and its sessions reopen the other way when
 * that changes. Between runs the threads stop spinning (force_spinning_stop), so the JS work between
 * steps has the cores to itself.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export type SpinSetting = 'auto' | 'on' | 'off';

/**
 * KD_LENS_ORT_SPIN: '1' spins always, '0' never, anything else (or unset) decides from the load;
 * inside a CPU quota (a container's cgroup limit) 'auto' never spins: the machine's CPU times do not
 * show the quota, and time spent spinning counts against it.
 */
export function spinSetting(value = process.env.KD_LENS_ORT_SPIN, quota = cpuQuota()): SpinSetting {
  if (value === '1') return 'on';
  return value === '0' || quota !== null ? 'off' : 'auto';
}

/**
 * The cores a Linux cgroup quota allows this process, or null where there is none: cgroup v2's
 * cpu.max ('max 100000' or '200000 100000'), else v1's cpu.cfs_quota_us (-1: none) over
 * cpu.cfs_period_us. `read` returns a file's text or null (tests feed their own).
 */
export function cpuQuota(read: (path: string) => string | null = readText): number | null {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2) return v2[0] === 'max' ? null : Number(v2[0]) / Number(v2[1] ?? 100000);
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? quota / period : null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** CPU time of the whole machine and of this process, in ms, at a moment. */
export interface CpuSample {
  at: number;
  machineBusy: number;
  own: number;
}

export function cpuSample(): CpuSample {
  let busy = 0;
  for (const c of os.cpus()) busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  const own = process.cpuUsage();
  return { at: performance.now(), machineBusy: busy, own: (own.user + own.system) / 1000 };
}

/** Cores that other processes kept busy between two samples (0 when no time passed). */
export function otherCores(from: CpuSample, to: CpuSample): number {
  const wall = to.at - from.at;
  if (wall <= 0) return 0;
  return Math.max(0, (to.machineBusy - from.machineBusy - (to.own - from.own)) / wall);
}

/** Spin while other processes use at most this many cores beyond those our threads leave free... */
const START_SPINNING = 0.25;
/** ...and stop once they use more than this many (between the two, keep what runs). */
const STOP_SPINNING = 0.5;
/** How often (ms of stepping) the load is looked at again. */
const CHECK_EVERY_MS = 2000;
/** After a switch the sessions stay as they are at least this long, and 20 times what reopening took. */
const HOLD_MS = 10_000;
/** The first decision looks at the load over at least this long. */
export const FIRST_LOOK_MS = 200;

export interface SpinMonitorOptions {
  setting: SpinSetting;
  /** Intra-op threads of the sessions (one thread has nothing to spin). */
  threads: number;
  /** Logical cores of the machine. */
  cores: number;
  /** Where the CPU times and the clock come from (tests feed their own; ms, as CpuSample.at). */
  cpu?: CpuSource;
}

export interface CpuSource {
  sample: () => CpuSample;
  now: () => number;
}

/**
 * Decides, at a stage's open and then every couple of seconds of stepping, whether its sessions'
 * threads spin. `decide()` gives the first choice; `due()`, called after a step, says when the
 * sessions should reopen with `spinning` (already flipped when it returns true).
 */
export class SpinMonitor {
  spinning: boolean;
  private readonly sample: () => CpuSample;
  private readonly now: () => number;
  private readonly spare: number;
  private last: CpuSample;
  private holdUntil = 0;

  constructor(private readonly o: SpinMonitorOptions) {
    this.sample = o.cpu?.sample ?? cpuSample;
    this.now = o.cpu?.now ?? (() => performance.now());
    this.spare = Math.max(0, o.cores - o.threads);
    this.last = this.sample();
    this.spinning = o.setting === 'on' && o.threads > 1;
  }

  /** Whether the load can change the choice at all. */
  get adaptive(): boolean {
    return this.o.setting === 'auto' && this.o.threads > 1;
  }

  /** The first choice, from the load since the monitor was made (waits until FIRST_LOOK_MS passed). */
  async decide(): Promise<boolean> {
    if (!this.adaptive) return this.spinning;
    let now = this.sample();
    const left = FIRST_LOOK_MS - (now.at - this.last.at);
    if (left > 0) {
      await new Promise((resolve) => setTimeout(resolve, left));
      now = this.sample();
    }
    this.spinning = otherCores(this.last, now) <= this.spare + START_SPINNING;
    this.last = now;
    return this.spinning;
  }

  /** After a step: true when the load calls for the other choice (then `spinning` is the new one). */
  due(): boolean {
    // The clock first: reading the CPU times every step would cost more than the check.
    if (!this.adaptive || this.now() - this.last.at < CHECK_EVERY_MS) return false;
    const now = this.sample();
    const others = otherCores(this.last, now);
    this.last = now;
    if (now.at < this.holdUntil) return false;
    const want = this.spinning ? others <= this.spare + STOP_SPINNING : others <= this.spare + START_SPINNING;
    if (want === this.spinning) return false;
    this.spinning = want;
    return true;
  }

  /** Called once the sessions reopened, with how long that took (ms). */
  reopened(tookMs: number): void {
    this.holdUntil = this.sample().at + Math.max(HOLD_MS, 20 * tookMs);
  }
}

/** ONNX Runtime's session options for a choice: spinning during a run, never between runs. */
export function spinOptions(spinning: boolean): { session: Record<string, unknown> } {
  return spinning
    ? { session: { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1' } }
    : { session: { intra_op: { allow_spinning: '0' } } };
}

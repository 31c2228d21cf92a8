/*
 * The spin policy: other processes' load from CPU times (hand-worked numbers), the first choice,
 * the hysteresis between spinning and blocking, the hold after a switch, and KD_LENS_ORT_SPIN.
 */
import { describe, it, expect } from 'vitest';
import {
  SpinMonitor,
  cpuQuota,
  otherCores,
  spinOptions,
  spinSetting,
  FIRST_LOOK_MS,
  type CpuSample
} from '../../../../src/engine/onnx/spin-policy';

/** A machine whose clock and CPU times the test moves. */
function fakeMachine() {
  const now: CpuSample = { at: 0, machineBusy: 0, own: 0 };
  return {
    cpu: { sample: (): CpuSample => ({ ...now }), now: () => now.at },
    /** `ms` of wall time pass with `others` cores busy elsewhere and `own` cores of ours. */
    pass(ms: number, others: number, own = 1.7): void {
      now.at += ms;
      now.own += own * ms;
      now.machineBusy += (others + own) * ms;
    }
  };
}

describe('otherCores', () => {
  it('is the machine busy time less our own, per wall time', () => {
    const a = { at: 1000, machineBusy: 50_000, own: 2_000 };
    // 2 s: the machine's cores were busy 3 s in all, 1 s of it ours: one core's worth elsewhere.
    const b = { at: 3000, machineBusy: 53_000, own: 3_000 };
    expect(otherCores(a, b)).toBeCloseTo(1.0, 12);
    // Our time counted beyond the machine's (tick rounding) is no negative load.
    expect(otherCores(a, { at: 3000, machineBusy: 50_500, own: 3_000 })).toBe(0);
    expect(otherCores(a, a)).toBe(0);
  });
});

describe('spinSetting', () => {
  it("reads '1' as on, '0' as off and anything else as auto; a CPU quota turns auto off", () => {
    expect(spinSetting('1', null)).toBe('on');
    expect(spinSetting('0', null)).toBe('off');
    expect(spinSetting(undefined, null)).toBe('auto');
    expect(spinSetting('yes', null)).toBe('auto');
    expect(spinSetting(undefined, 2)).toBe('off');
    expect(spinSetting('1', 2)).toBe('on');
  });

  it('reads the cgroup quota, v2 first, then v1', () => {
    const files = (entries: Record<string, string>) => (path: string) => entries[path] ?? null;
    expect(cpuQuota(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeNull();
    expect(cpuQuota(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(1.5);
    const v1 = { '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' };
    expect(cpuQuota(files({ ...v1, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n' }))).toBeNull();
    expect(cpuQuota(files({ ...v1, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '200000\n' }))).toBe(2);
    expect(cpuQuota(files({}))).toBeNull();
  });
});

describe('SpinMonitor', () => {
  it('keeps a fixed setting whatever the load, and never spins one thread', async () => {
    const m = fakeMachine();
    const on = new SpinMonitor({ setting: 'on', threads: 2, cores: 2, cpu: m.cpu });
    const off = new SpinMonitor({ setting: 'off', threads: 2, cores: 2, cpu: m.cpu });
    const single = new SpinMonitor({ setting: 'on', threads: 1, cores: 2, cpu: m.cpu });
    m.pass(5000, 2);
    expect([await on.decide(), await off.decide(), await single.decide()]).toEqual([true, false, false]);
    m.pass(5000, 0);
    expect([on.due(), off.due(), single.due()]).toEqual([false, false, false]);
    expect(on.adaptive || off.adaptive || single.adaptive).toBe(false);
  });

  it('spins on an idle machine and blocks on a busy one from the first look', async () => {
    const m = fakeMachine();
    const idle = new SpinMonitor({ setting: 'auto', threads: 2, cores: 2, cpu: m.cpu });
    m.pass(300, 0.1);
    expect(await idle.decide()).toBe(true);
    const busy = new SpinMonitor({ setting: 'auto', threads: 2, cores: 2, cpu: m.cpu });
    m.pass(300, 1);
    expect(await busy.decide()).toBe(false);
    // Two threads on eight cores leave six free: five busy cores elsewhere still leave room to spin.
    const wide = new SpinMonitor({ setting: 'auto', threads: 2, cores: 8, cpu: m.cpu });
    m.pass(300, 5);
    expect(await wide.decide()).toBe(true);
  });

  it('switches past the thresholds only, checks every 2 s, and holds after a switch', async () => {
    const m = fakeMachine();
    const s = new SpinMonitor({ setting: 'auto', threads: 2, cores: 2, cpu: m.cpu });
    m.pass(300, 0);
    expect(await s.decide()).toBe(true);
    // Between the thresholds (0.25 and 0.5 cores) the choice stays.
    m.pass(2500, 0.4);
    expect(s.due()).toBe(false);
    expect(s.spinning).toBe(true);
    // Above 0.5, but less than 2 s since the last look: not yet.
    m.pass(1000, 1.5);
    expect(s.due()).toBe(false);
    m.pass(1500, 1.5);
    expect(s.due()).toBe(true);
    expect(s.spinning).toBe(false);
    s.reopened(100);
    // Idle again, but within the 10 s hold: stays blocking; past it: spins again.
    m.pass(3000, 0);
    expect(s.due()).toBe(false);
    m.pass(3000, 0.4);
    expect(s.due()).toBe(false);
    m.pass(5000, 0);
    expect(s.due()).toBe(true);
    expect(s.spinning).toBe(true);
    // A slow reopen holds 20 times as long as it took.
    s.reopened(1000);
    m.pass(15_000, 2);
    expect(s.due()).toBe(false);
    m.pass(6000, 2);
    expect(s.due()).toBe(true);
    expect(s.spinning).toBe(false);
  });

  it('looks at the load for at least FIRST_LOOK_MS before the first choice', async () => {
    let busy = 0;
    const sample = (): CpuSample => ({ at: performance.now(), machineBusy: busy, own: 0 });
    const s = new SpinMonitor({ setting: 'auto', threads: 2, cores: 2, cpu: { sample, now: () => performance.now() } });
    const started = performance.now();
    // Another process keeps both cores busy while the monitor waits.
    const timer = setInterval(() => (busy += 2 * 10), 10);
    const spinning = await s.decide();
    clearInterval(timer);
    expect(performance.now() - started).toBeGreaterThanOrEqual(FIRST_LOOK_MS - 5);
    expect(spinning).toBe(false);
  });

  it('asks ONNX Runtime to stop spinning after each run when it spins', () => {
    expect(spinOptions(true)).toEqual({ session: { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1' } });
    expect(spinOptions(false)).toEqual({ session: { intra_op: { allow_spinning: '0' } } });
  });
});

// @vitest-environment happy-dom
/*
 * Run comparison: the runs table sorts by a metric column, collapses seed groups to mean ± std
 * (sample std, hand-worked), keeps tags and notes, deletes only after a confirmation; ticked runs
 * show their curves and numbers together and only what differs between two configurations.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { RunRow } from '../../../../src/common/api';
import { setApi } from '../../../../src/renderer/src/api';
import RunsTable from '../../../../src/renderer/src/components/RunsTable.vue';
import RunCompare from '../../../../src/renderer/src/components/RunCompare.vue';
import { aggregate, configDiff } from '../../../../src/renderer/src/results/runs';
import { demoConfig } from '../../../../src/common/defaults';
import { FakeApi, detail, flush } from '../fake-api';
import { metricsFixture } from '../metrics-fixture';

const byId = (id: string): string => `[data-testid="${id}"]`;
const nums = (fg: number) => ({ N_fg: fg, N_bg: 1, ratio: 0.5, D_mean: 2, D_std: 1, rho: 0.4, accuracy: 0.8 });
const row = (id: string, name: string, { seed, group, sFg }: { seed: number; group: string; sFg: number }): RunRow => ({
  summary: { ...detail(id).summary, id, name, status: 'finished', createdAt: `2025-01-0${seed + 1}` },
  seed,
  group,
  tags: [],
  note: '',
  networks: { S: nums(sFg), B: nums(sFg - 1), T: nums(9) }
});

let api: FakeApi;
async function setup() {
  api = new FakeApi();
  api.runs = [
    row('r1', 'lr-a', { seed: 0, group: 'g1', sFg: 10 }),
    row('r2', 'lr-a', { seed: 1, group: 'g1', sFg: 12 }),
    row('r3', 'lr-b', { seed: 0, group: 'g2', sFg: 11 })
  ];
  setApi(api);
  const pinia = createPinia();
  setActivePinia(pinia);
  const w = mount(
    { components: { RunsTable, RunCompare }, template: '<div><RunsTable /><RunCompare /></div>' },
    { global: { plugins: [pinia] } }
  );
  await flush();
  return w;
}

beforeEach(() => {
  window.location.hash = '';
});

describe('runs table', () => {
  it('marks a run with a failing check, shows "—" for a network without analysed images, and what differs', async () => {
    api = new FakeApi();
    const dead = row('r9', 'voc-tux', { seed: 3, group: 'g9', sFg: 0 });
    dead.networks.S = { ...nums(0), rho: 0, images: 0 };
    dead.failedChecks = ['student-mimics-teacher: stage 1 left 101 % of the teacher feature variance'];
    dead.differs = 'seed 3, stage-1 lr 0.01';
    api.runs = [dead, row('r1', 'lr-a', { seed: 0, group: 'g1', sFg: 10 })];
    setApi(api);
    const pinia = createPinia();
    setActivePinia(pinia);
    const w = mount(RunsTable, { global: { plugins: [pinia] } });
    await flush();
    const r9 = w.find('[data-run-id="r9"]');
    expect(r9.find(byId('run-check-failed')).attributes('title')).toMatch(/^student-mimics-teacher/);
    expect(r9.text()).toContain('seed 3, stage-1 lr 0.01');
    expect([r9.find('[data-col="S.N_fg"]').text(), r9.find('[data-col="S.rho"]').text()]).toEqual(['—', '—']);
    expect(r9.find('[data-col="S.accuracy"]').text()).toBe('0.800');
    expect(w.find('[data-run-id="r1"]').find(byId('run-check-failed')).exists()).toBe(false);
  });

  it('marks a run that a failing check stopped before it had metrics', async () => {
    api = new FakeApi();
    const stopped = row('r8', 'photo', { seed: 0, group: 'g8', sFg: 0 });
    stopped.networks = {};
    stopped.failedChecks = ['teacher-beats-baseline: the teacher (35.3 %) is weaker than the baseline (86.7 %)'];
    stopped.stoppedAfter = 'baseline';
    api.runs = [stopped, row('r1', 'lr-a', { seed: 0, group: 'g1', sFg: 10 })];
    setApi(api);
    const pinia = createPinia();
    setActivePinia(pinia);
    const w = mount(RunsTable, { global: { plugins: [pinia] } });
    await flush();
    const badge = w.find('[data-run-id="r8"]').find(byId('run-check-failed'));
    expect(badge.text()).toBe('stopped: check failed');
    expect(badge.attributes('title')).toBe(`stopped after baseline:\n${stopped.failedChecks[0]}`);
  });

  it('sorts by a metric column, both ways', async () => {
    const w = await setup();
    const order = () => w.findAll(byId('run-row')).map((r) => r.attributes('data-run-id'));
    await w.find(byId('sort-S.N_fg')).trigger('click');
    expect(order()).toEqual(['r2', 'r3', 'r1']);
    await w.find(byId('sort-S.N_fg')).trigger('click');
    expect(order()).toEqual(['r1', 'r3', 'r2']);
  });

  it('collapses runs that differ only in seed to mean ± std', async () => {
    const w = await setup();
    await w.find(byId('runs-grouped')).setValue(true);
    const groups = w.findAll(byId('run-group'));
    expect(groups.map((g) => g.attributes('data-runs'))).toEqual(['2', '1']);
    // S N_fg over seeds: 10 and 12 -> mean 11, sample std sqrt(2) = 1.414
    expect(groups[0].find('[data-col="S.N_fg"]').text()).toBe('11.000 ± 1.414');
    expect(groups[1].find('[data-col="S.N_fg"]').text()).toBe('11.000');
    expect(aggregate([10, 12, null])).toEqual({ mean: 11, std: Math.SQRT2, n: 2 });
  });

  it('saves tags and a note, and deletes to the trash only after a confirmation', async () => {
    const w = await setup();
    const first = () => w.find('[data-run-id="r3"]');
    await first().find(byId('run-tags')).setValue('paper, lr ');
    await flush();
    expect(api.callsOf('setRunNotes')).toEqual([{ experimentId: 'r3', tags: ['paper', 'lr'], note: '' }]);
    await first().find(byId('run-note')).trigger('click');
    await flush();
    await w.find(byId('run-note-input')).setValue('baseline overfits');
    await w.find(byId('run-note-save')).trigger('click');
    await flush();
    expect(api.callsOf('setRunNotes')[1]).toEqual({
      experimentId: 'r3',
      tags: ['paper', 'lr'],
      note: 'baseline overfits'
    });
    await first().find(byId('run-delete')).trigger('click');
    expect(api.callsOf('deleteExperiment')).toEqual([]);
    await w.find(byId('run-delete-confirm')).trigger('click');
    await flush();
    expect(api.callsOf('deleteExperiment')).toEqual([{ experimentId: 'r3' }]);
    expect(w.findAll(byId('run-row')).map((r) => r.attributes('data-run-id'))).toEqual(['r2', 'r1']);
    expect(w.find(byId('run-trashed')).text()).toMatch(/trash\/experiments\/r3-1/);
  });

  it('ticked runs: curves and six numbers together, and only what differs between two configurations', async () => {
    const w = await setup();
    const a = detail('r1');
    a.summary.name = 'lr-a';
    a.metrics = metricsFixture();
    const b = detail('r3');
    b.summary.name = 'lr-b';
    b.metrics = metricsFixture();
    b.config = { ...demoConfig(), name: 'lr-b', baseline: { ...demoConfig().baseline, lr: 0.01 }, seeds: 2 };
    a.config = { ...demoConfig(), name: 'lr-a' };
    api.experiments = [a, b];
    await w.find('[data-run-id="r1"]').find(byId('run-select')).setValue(true);
    await w.find('[data-run-id="r3"]').find(byId('run-select')).setValue(true);
    await flush(5);
    expect(Number(w.find(byId('compare-fg')).attributes('data-points'))).toBe(2 * (3 + 3));
    expect(w.findAll(`${byId('compare-numbers')} tbody tr`)).toHaveLength(4);
    const diff = w.findAll(`${byId('config-diff')} tbody tr`).map((r) => r.findAll('td').map((t) => t.text()));
    expect(diff).toEqual([
      ['baseline.lr', '0.03', '0.01'],
      ['name', 'lr-a', 'lr-b'],
      ['seeds', '1', '2']
    ]);
    expect(configDiff({ a: [1, 2] }, { a: [1, 2], b: 1 })).toEqual([{ path: 'b', a: undefined, b: 1 }]);
  });
});

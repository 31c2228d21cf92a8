// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatMeanStd,
  formatNumber,
  formatPercent,
  runLabel
} from '../../../../src/renderer/src/utils/format';
import { toCsv } from '../../../../src/renderer/src/utils/csv';
import {
  conceptFlags,
  gradientCss,
  normalise,
  sharedRange,
  viridis
} from '../../../../src/renderer/src/utils/colormap';
import { isTypingTarget } from '../../../../src/renderer/src/utils/keyboard';

describe('format', () => {
  it('formats numbers with three decimals and a dash for missing ones', () => {
    expect(formatNumber(12.5)).toBe('12.500');
    expect(formatNumber(0.0004)).toBe('0.000');
    expect(formatNumber(-0.0004)).toBe('0.000');
    expect(formatNumber(null)).toBe('—');
    expect(formatNumber(NaN)).toBe('—');
    expect(formatNumber(2 / 3, 2)).toBe('0.67');
    expect(formatMeanStd(1.25, 0.5)).toBe('1.250 ± 0.500');
    expect(formatMeanStd(null, 0.5)).toBe('—');
  });

  it('reads durations like people do', () => {
    expect(formatDuration(45.4)).toBe('45 s');
    expect(formatDuration(245)).toBe('4 min 05 s');
    expect(formatDuration(3720)).toBe('1 h 02 min');
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(-1)).toBe('—');
  });

  it('floors percentages so 100 % means done', () => {
    expect(formatPercent(0.999)).toBe('99 %');
    expect(formatPercent(1)).toBe('100 %');
    expect(formatPercent(1.7)).toBe('100 %');
  });
});

describe('csv', () => {
  it('quotes only what must be quoted and writes numbers in full', () => {
    expect(
      toCsv([
        ['a', 'b,c', 'say "hi"'],
        [1 / 3, null, true]
      ])
    ).toBe('a,"b,c","say ""hi"""\r\n0.3333333333333333,,true\r\n');
  });
});

describe('colormap', () => {
  it('runs viridis from dark purple to yellow', () => {
    expect(viridis(0)).toEqual([68, 1, 84]);
    expect(viridis(1)).toEqual([253, 231, 37]);
    expect(viridis(0.0625)).toEqual([70, 23, 103]);
    expect(viridis(-3)).toEqual([68, 1, 84]);
  });

  it('shares one range across maps, ignoring missing maps and non-finite values', () => {
    expect(sharedRange([[1, 2], null, [-0.5, NaN, 3]])).toEqual({ min: -0.5, max: 3 });
    expect(sharedRange([null, undefined])).toBeNull();
    expect(normalise(2, { min: 1, max: 5 })).toBe(0.25);
    expect(normalise(2, { min: 2, max: 2 })).toBe(0.5);
    expect(gradientCss(2)).toBe('linear-gradient(to right, rgb(68, 1, 84) 0%, rgb(253, 231, 37) 100%)');
  });

  it('marks concept cells where H_bar - H_i > b, strictly', () => {
    expect(Array.from(conceptFlags([0.5, 0.8, 0.79, 2], 1, 0.2))).toEqual([1, 0, 1, 0]);
    expect(Array.from(conceptFlags([0.5], null, 0.2))).toEqual([0]);
  });
});

describe('isTypingTarget', () => {
  it('is true for text fields, selects and textareas, false for buttons and checkboxes', () => {
    const make = (html: string): Element => {
      const d = document.createElement('div');
      d.innerHTML = html;
      return d.firstElementChild!;
    };
    expect(isTypingTarget(make('<input type="text">'))).toBe(true);
    expect(isTypingTarget(make('<input type="number">'))).toBe(true);
    expect(isTypingTarget(make('<textarea></textarea>'))).toBe(true);
    expect(isTypingTarget(make('<select></select>'))).toBe(true);
    expect(isTypingTarget(make('<input type="checkbox">'))).toBe(false);
    expect(isTypingTarget(make('<button>x</button>'))).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});

describe('runLabel', () => {
  it('tells two runs of the same name apart by time, status, seed and what differs', () => {
    const base = { name: 'voc-tux-vgg32-fc1-e15-g8-n20', status: 'finished', createdAt: '2026-12-06T10:00:00Z' };
    const a = runLabel({ ...base, seed: 0 });
    const b = runLabel({ ...base, status: 'failed', createdAt: '2026-12-06T11:00:00Z', seed: 3, differs: 'seed 3' });
    const c = runLabel({ ...base, seed: 0, differs: 'stage-1 lr 0.01' });
    expect(new Set([a, b, c]).size).toBe(3);
    expect(a).toMatch(/^voc-tux-vgg32-fc1-e15-g8-n20 — finished · .+ · seed 0$/);
    expect(b).toMatch(/ — failed · .+ · seed 3$/);
    expect(c).toMatch(/· seed 0 · stage-1 lr 0\.01$/);
  });

  it('says when failing checks stopped the run early', () => {
    const base = { name: 'photo', status: 'failed', createdAt: '2026-12-06T10:00:00Z', seed: 0 };
    const one = runLabel({ ...base, stoppedEarly: { after: 'baseline', checks: ['teacher weaker'] } });
    const two = runLabel({ ...base, stoppedEarly: { after: 'student stage 1', checks: ['a', 'b'] } });
    expect(one).toMatch(/^photo — failed · stopped by a failing check after baseline · .+ · seed 0$/);
    expect(two).toMatch(/ · stopped by 2 failing checks after student stage 1 · /);
    expect(runLabel(base)).not.toMatch(/stopped/);
  });
});

// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import ProtocolChecks from '../../../../src/renderer/src/components/ProtocolChecks.vue';
import VerdictList from '../../../../src/renderer/src/components/VerdictList.vue';
import type { Check } from '../../../../src/common/metrics';
import { metricsFixture } from '../metrics-fixture';

const check = (id: string, status: Check['status'], message: string, advice = ''): Check => ({
  id,
  status,
  value: 0,
  limit: 0,
  message,
  advice
});

describe('ProtocolChecks', () => {
  it('puts a failing check first with its advice and says the verdicts do not answer the question', () => {
    const w = mount(ProtocolChecks, {
      props: {
        checks: [
          check('sample-size', 'warn', '12 images are paired'),
          check('concept-density', 'ok', 'fine'),
          check(
            'teacher-beats-baseline',
            'fail',
            'the teacher is weaker than the baseline: 52.5 % against 78.3 %',
            'fine-tune the teacher longer'
          )
        ]
      }
    });
    expect(w.find('[data-testid="checks-failing"]').exists()).toBe(true);
    const items = w.findAll('li[data-status]');
    expect(items.map((i) => i.attributes('data-status'))).toEqual(['fail', 'warn']);
    expect(items[0].text()).toContain('Advice: fine-tune the teacher longer');
    expect(w.find('details summary').text()).toBe('1 checks passed');
  });

  it('says when all checks passed, and when a run has none', () => {
    expect(
      mount(ProtocolChecks, {
        props: { checks: [check('a', 'ok', 'x'), check('b', 'ok', 'y')] }
      }).text()
    ).toContain('All 2 protocol checks passed');
    expect(mount(ProtocolChecks, { props: { checks: undefined } }).text()).toContain('no protocol checks');
  });
});

describe('VerdictList with a failing check', () => {
  it('badges each verdict "not meaningful" and starts its sentence so', () => {
    const m = metricsFixture();
    for (const h of ['H1', 'H2', 'H3'] as const)
      m.verdicts[h] = {
        ...m.verdicts[h],
        meaningful: false,
        details: `not meaningful: the teacher is weaker than the baseline — ${m.verdicts[h].details}`
      };
    const w = mount(VerdictList, { props: { metrics: m } });
    const h1 = w.find('[data-testid="verdict-H1"]');
    expect(h1.find('.badge').text()).toBe('not meaningful');
    expect(h1.text()).toContain('H1 not meaningful: the teacher is weaker than the baseline');
  });
});

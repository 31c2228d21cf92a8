/* Dataset ids for names in any script (issue 21): transliterated, or a short hash; always a valid id. */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { SafeId } from '../../../../src/common/dataset';
import { datasetIdFromName } from '../../../../src/engine/data/dataset-id';

const hash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 8);

describe('datasetIdFromName', () => {
  it('keeps ASCII names as before and transliterates Cyrillic and Greek', () => {
    expect(datasetIdFromName('My Birds (2024)')).toBe('my-birds-2024');
    expect(datasetIdFromName('Élan vital')).toBe('elan-vital');
    expect(datasetIdFromName('Птицы')).toBe('ptitsy');
    expect(datasetIdFromName('Щука и ёж')).toBe('shchuka-i-ezh');
    expect(datasetIdFromName('Ωμέγα')).toBe('omega');
    expect(datasetIdFromName('x'.repeat(100))).toBe('x'.repeat(64));
  });

  it('gives names with nothing spellable a short hash, and adds one when letters were lost', () => {
    for (const name of ['鳥', '---', '..', '***', '.'])
      expect([name, datasetIdFromName(name)]).toEqual([name, `ds-${hash(name)}`]);
    expect(datasetIdFromName('鳥 2024')).toBe(`2024-${hash('鳥 2024')}`);
    expect(datasetIdFromName('鳥 2024')).not.toBe(datasetIdFromName('魚 2024'));
    for (const name of ['鳥', 'Птицы', '---', '..', 'ابجد', '🐦 birds', 'a'.repeat(300) + '鳥'])
      expect([name, SafeId.safeParse(datasetIdFromName(name)).success]).toEqual([name, true]);
  });
});

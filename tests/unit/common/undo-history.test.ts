import { describe, it, expect } from 'vitest';
import {
  currentState,
  MAX_UNDO_STATES,
  pushState,
  redoStep,
  startHistory,
  undoCounts,
  undoStep,
  type UndoHistory
} from '../../../src/common/undo-history';
import { MaskHistorySchema, MAX_STATES } from '../../../src/engine/data/mask-history';

describe('the shared undo history', () => {
  it('pushes on top of the current state, steps back and forth, and counts', () => {
    let h: UndoHistory<string> = startHistory('a');
    h = pushState(h, 'b');
    h = pushState(h, 'c');
    expect(h).toEqual({ states: ['a', 'b', 'c'], position: 2 });
    expect(undoCounts(h)).toEqual({ canUndo: 2, canRedo: 0 });
    h = undoStep(h)!;
    h = undoStep(h)!;
    expect([currentState(h), undoCounts(h)]).toEqual(['a', { canUndo: 0, canRedo: 2 }]);
    expect(undoStep(h)).toBeNull();
    h = redoStep(h)!;
    expect([currentState(h), h.position]).toEqual(['b', 1]);
    // A new state after an undo drops the redo states: [a, b, d], nothing to redo.
    h = pushState(h, 'd');
    expect(h).toEqual({ states: ['a', 'b', 'd'], position: 2 });
    expect(redoStep(h)).toBeNull();
  });

  it('forgets the oldest states beyond the limit and keeps the position on the newest', () => {
    let h: UndoHistory<number> = startHistory(0);
    for (let k = 1; k <= 5; k++) h = pushState(h, k, 3);
    expect(h).toEqual({ states: [3, 4, 5], position: 2 });
    // Pushing from the middle: [3, 4] + 9, within the limit.
    expect(pushState(undoStep(h)!, 9, 3)).toEqual({ states: [3, 4, 9], position: 2 });
    expect(pushState(startHistory(0), 1)).toEqual({ states: [0, 1], position: 1 });
  });

  it('never changes its input and keeps the other fields of a stored history', () => {
    const stored = { version: 1 as const, width: 2, height: 1, states: ['x', 'y'], position: 1 };
    const next = pushState(undoStep(stored)!, 'z');
    expect(stored).toEqual({ version: 1, width: 2, height: 1, states: ['x', 'y'], position: 1 });
    expect(next).toEqual({ version: 1, width: 2, height: 1, states: ['x', 'z'], position: 1 });
    expect(MaskHistorySchema.safeParse(next).success).toBe(true);
  });

  it('is the limit of the stored history', () => {
    expect(MAX_STATES).toBe(MAX_UNDO_STATES);
    expect(MAX_UNDO_STATES).toBe(101);
  });
});

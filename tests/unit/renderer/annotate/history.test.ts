// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { StrokeHistory } from '../../../../src/renderer/src/annotate/history';
import {
  currentState,
  pushState,
  redoStep,
  startHistory,
  undoCounts,
  undoStep,
  type UndoHistory
} from '../../../../src/common/undo-history';

const s = (...v: number[]): Uint8Array => Uint8Array.from(v);

describe('StrokeHistory', () => {
  it('undoes and redoes one stroke at a time', () => {
    const h = new StrokeHistory(s(0, 0, 0));
    expect(h.commit(s(1, 0, 0))).toBe(true);
    expect(h.commit(s(1, 1, 0))).toBe(true);
    expect([h.canUndo, h.canRedo]).toEqual([2, 0]);
    expect(Array.from(h.undo()!)).toEqual([1, 0, 0]);
    expect([h.canUndo, h.canRedo]).toEqual([1, 1]);
    expect(Array.from(h.undo()!)).toEqual([0, 0, 0]);
    expect(h.undo()).toBeNull();
    expect(Array.from(h.redo()!)).toEqual([1, 0, 0]);
    expect(Array.from(h.redo()!)).toEqual([1, 1, 0]);
    expect(h.redo()).toBeNull();
  });

  it('drops the redo states when a new stroke follows an undo', () => {
    const h = new StrokeHistory(s(0, 0));
    h.commit(s(1, 0));
    h.commit(s(1, 1));
    h.undo();
    h.commit(s(0, 1));
    expect([h.canUndo, h.canRedo]).toEqual([2, 0]);
    expect(h.redo()).toBeNull();
    expect(Array.from(h.undo()!)).toEqual([1, 0]);
  });

  it('does not record a stroke that changed nothing', () => {
    const h = new StrokeHistory(s(1, 0));
    expect(h.commit(s(1, 0))).toBe(false);
    expect(h.canUndo).toBe(0);
  });

  it('forgets the oldest states beyond the limit', () => {
    const h = new StrokeHistory(s(0), 3);
    for (let v = 1; v <= 5; v++) h.commit(s(v));
    expect(h.canUndo).toBe(2);
    expect(Array.from(h.undo()!)).toEqual([4]);
    expect(Array.from(h.undo()!)).toEqual([3]);
    expect(h.undo()).toBeNull();
  });

  it('keeps copies, so later changes to a committed array do not leak in', () => {
    const next = s(1, 1);
    const h = new StrokeHistory(s(0, 0));
    h.commit(next);
    next[0] = 0;
    expect(Array.from(h.current)).toEqual([1, 1]);
    h.current[1] = 0;
    expect(Array.from(h.current)).toEqual([1, 1]);
  });

  it('adopts the server state in place of the current one without a step', () => {
    const h = new StrokeHistory(s(0));
    h.commit(s(1));
    h.adopt(s(0));
    expect(h.canUndo).toBe(1);
    expect(Array.from(h.current)).toEqual([0]);
  });

  it('steps like the shared undo history of the engine (same edits, same counts and states; limit 101)', () => {
    expect(new StrokeHistory(new Uint8Array(1)).limit).toBe(101);
    const editor = new StrokeHistory(Uint8Array.of(0));
    let strings: UndoHistory<string> = startHistory('0');
    for (const op of ['1', '2', 'undo', '3', 'undo', 'undo', 'redo', '4'] as const) {
      if (op === 'undo') {
        editor.undo();
        strings = undoStep(strings) ?? strings;
      } else if (op === 'redo') {
        editor.redo();
        strings = redoStep(strings) ?? strings;
      } else {
        editor.commit(Uint8Array.of(Number(op)));
        strings = pushState(strings, op);
      }
      expect([editor.canUndo, editor.canRedo, String(editor.current[0])]).toEqual([
        undoCounts(strings).canUndo,
        undoCounts(strings).canRedo,
        currentState(strings)
      ]);
    }
  });
});

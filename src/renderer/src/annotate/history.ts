/*
 * Undo/redo one stroke at a time in the editor, through the same undo history as the engine's mask edits
 * (src/common/undo-history.ts), so the editor can show an undo at once while the API call that makes it durable is
 * in flight: a new state drops the states after the position (no redo after a new stroke); a state equal to the
 * current one is not a step; the oldest states beyond `limit` are forgotten. Pure; copies what it keeps.
 */
import {
  currentState,
  MAX_UNDO_STATES,
  pushState,
  redoStep,
  startHistory,
  undoCounts,
  undoStep,
  type UndoHistory
} from '../../../common/undo-history';

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, k) => v === b[k]);

export class StrokeHistory {
  private history: UndoHistory<Uint8Array>;

  constructor(
    initial: Uint8Array,
    readonly limit = MAX_UNDO_STATES
  ) {
    this.history = startHistory(initial.slice());
  }

  /** A copy of the current state. */
  get current(): Uint8Array {
    return currentState(this.history).slice();
  }

  get canUndo(): number {
    return undoCounts(this.history).canUndo;
  }

  get canRedo(): number {
    return undoCounts(this.history).canRedo;
  }

  /** Records `next` as a new step; false (nothing recorded) when it equals the current state. */
  commit(next: Uint8Array): boolean {
    if (same(next, currentState(this.history))) return false;
    this.history = pushState(this.history, next.slice(), this.limit);
    return true;
  }

  /** Steps back one stroke; the state now current, or null when there is nothing to undo. */
  undo(): Uint8Array | null {
    return this.step(undoStep(this.history));
  }

  /** Re-applies one undone stroke; the state now current, or null when there is none. */
  redo(): Uint8Array | null {
    return this.step(redoStep(this.history));
  }

  /** Puts `state` in place of the current one without a step (the server's answer wins). */
  adopt(state: Uint8Array): void {
    const states = [...this.history.states];
    states[this.history.position] = state.slice();
    this.history = { ...this.history, states };
  }

  private step(next: UndoHistory<Uint8Array> | null): Uint8Array | null {
    if (!next) return null;
    this.history = next;
    return this.current;
  }
}

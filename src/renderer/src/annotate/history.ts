/*
 * Undo/redo one stroke at a time, with the same semantics as the engine's mask history
 * (src/engine/data/mask-history.ts), so the editor can show an undo at once while the API call
 * that makes it durable is in flight: a list of states and a position; a new state drops the
 * states after the position (no redo after a new stroke); a state equal to the current one is not
 * a step; the oldest states beyond `limit` are forgotten. Pure; copies what it keeps.
 */

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, k) => v === b[k]);

export class StrokeHistory {
  private states: Uint8Array[];
  private position = 0;

  constructor(
    initial: Uint8Array,
    readonly limit = 101
  ) {
    this.states = [initial.slice()];
  }

  /** A copy of the current state. */
  get current(): Uint8Array {
    return this.states[this.position].slice();
  }

  get canUndo(): number {
    return this.position;
  }

  get canRedo(): number {
    return this.states.length - 1 - this.position;
  }

  /** Records `next` as a new step; false (nothing recorded) when it equals the current state. */
  commit(next: Uint8Array): boolean {
    if (same(next, this.states[this.position])) return false;
    this.states = [...this.states.slice(0, this.position + 1), next.slice()];
    const drop = Math.max(0, this.states.length - this.limit);
    this.states = this.states.slice(drop);
    this.position = this.states.length - 1;
    return true;
  }

  /** Steps back one stroke; the state now current, or null when there is nothing to undo. */
  undo(): Uint8Array | null {
    if (this.position === 0) return null;
    this.position--;
    return this.current;
  }

  /** Re-applies one undone stroke; the state now current, or null when there is none. */
  redo(): Uint8Array | null {
    if (this.position >= this.states.length - 1) return null;
    this.position++;
    return this.current;
  }

  /** Puts `state` in place of the current one without a step (the server's answer wins). */
  adopt(state: Uint8Array): void {
    this.states[this.position] = state.slice();
  }
}

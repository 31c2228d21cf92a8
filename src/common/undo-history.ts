/*
 * The one undo history of mask edits: a list of states and the position of the current one. The engine keeps it in
 * edits/<sample>.json (states as run-length strings) and the Annotate view keeps one of raw masks, so the editor can
 * show an undo at once while the call that makes it durable is in flight; both step through these functions and so
 * cannot disagree. Pure and generic in the state; returns new values, never changes its input. Runtime-neutral.
 */

/** States kept: the current one and up to 100 to undo. */
export const MAX_UNDO_STATES = 101;

export interface UndoHistory<S> {
  /** Oldest first; the states after `position` can be redone. */
  readonly states: readonly S[];
  /** Index of the current state. */
  readonly position: number;
}

/** A history holding one state. */
export function startHistory<S>(state: S): UndoHistory<S> {
  return { states: [state], position: 0 };
}

/**
 * `state` on top of the current one: the states after the position are dropped (no redo after a new edit), and the
 * oldest beyond `limit` are forgotten. The caller decides whether a state equal to the current one is a step.
 */
export function pushState<H extends UndoHistory<unknown>>(
  history: H,
  state: H['states'][number],
  limit = MAX_UNDO_STATES
): H {
  const states = [...history.states.slice(0, history.position + 1), state];
  const drop = Math.max(0, states.length - limit);
  return { ...history, states: states.slice(drop), position: states.length - 1 - drop };
}

/** One step back, or null when there is nothing to undo. */
export function undoStep<H extends UndoHistory<unknown>>(history: H): H | null {
  return history.position > 0 ? { ...history, position: history.position - 1 } : null;
}

/** One undone step again, or null when there is none. */
export function redoStep<H extends UndoHistory<unknown>>(history: H): H | null {
  return history.position < history.states.length - 1 ? { ...history, position: history.position + 1 } : null;
}

/** How many steps can be undone and redone. */
export function undoCounts(history: UndoHistory<unknown>): { canUndo: number; canRedo: number } {
  return { canUndo: history.position, canRedo: history.states.length - 1 - history.position };
}

/** The current state. */
export function currentState<S>(history: UndoHistory<S>): S {
  return history.states[history.position];
}

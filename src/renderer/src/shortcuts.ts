/*
 * The keyboard shortcuts shown under `?`, per view. Only a list for people to read: each view
 * handles its own keys (utils/keyboard.ts); keep the two in step when adding one.
 */
import type { ViewName } from './router';

export interface Shortcut {
  keys: string;
  what: string;
}

export const GLOBAL_SHORTCUTS: Shortcut[] = [
  { keys: '1 … 5', what: 'Datasets, Annotate, Experiment, Results, Inspector' },
  { keys: 'j', what: 'show or hide the jobs panel' },
  { keys: 't', what: 'theme: system, light, dark' },
  { keys: '?', what: 'this list' },
  { keys: 'Esc', what: 'close this list or a dialog' }
];

export const VIEW_SHORTCUTS: Record<ViewName, Shortcut[]> = {
  datasets: [
    { keys: 'i', what: 'open the import wizard' },
    { keys: '/', what: 'search samples by file name or id' }
  ],
  annotate: [
    { keys: 'b', what: 'brush' },
    { keys: 'e', what: 'eraser (toggles with the brush)' },
    { keys: 'Shift + drag', what: 'erase with any tool' },
    { keys: 'x', what: 'box fill' },
    { keys: 'p', what: 'polygon fill (click points; Enter, double-click or the first point closes; Esc cancels)' },
    { keys: '[  ]', what: 'brush smaller / larger' },
    { keys: 'Ctrl+Z', what: 'undo one stroke' },
    { keys: 'Ctrl+Shift+Z  Ctrl+Y', what: 'redo one stroke' },
    { keys: '← →', what: 'previous / next image' },
    { keys: 'wheel', what: 'zoom about the pointer' },
    { keys: 'Space + drag, middle drag', what: 'pan' },
    { keys: '0', what: 'fit the image' }
  ],
  experiment: [{ keys: 'Ctrl+Enter', what: 'launch the configured run' }],
  results: [],
  inspector: [
    { keys: '← →', what: 'previous / next image' },
    { keys: ', .', what: 'earlier / later checkpoint' },
    { keys: 'd', what: 'list first the images where student and baseline differ most' }
  ]
};

/*
 * Keyboard shortcuts: whether a key press belongs to a text field (then no shortcut may fire),
 * and a composable that listens while a component is mounted. The list shown under `?` lives in
 * shortcuts.ts; this module only routes key presses.
 */
import { onMounted, onBeforeUnmount } from 'vue';

/** True when the event target is a place where the user types (inputs, textareas, selects, editable). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).tagName !== 'string') return false;
  const el = target as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (tag === 'textarea' || tag === 'select' || el.isContentEditable) return true;
  if (tag !== 'input') return false;
  const type = ((el as HTMLInputElement).type || 'text').toLowerCase();
  return !['button', 'submit', 'reset', 'checkbox', 'radio'].includes(type);
}

/**
 * Calls `handler` for key presses outside text fields while the component is mounted; the handler
 * returns true when it used the key (the default action is then prevented).
 */
export function useShortcuts(
  handler: (event: KeyboardEvent) => boolean,
  options: { keyup?: (event: KeyboardEvent) => void } = {}
): void {
  const down = (event: KeyboardEvent): void => {
    if (event.defaultPrevented || isTypingTarget(event.target)) return;
    if (handler(event)) event.preventDefault();
  };
  const up = (event: KeyboardEvent): void => options.keyup?.(event);
  onMounted(() => {
    window.addEventListener('keydown', down);
    if (options.keyup) window.addEventListener('keyup', up);
  });
  onBeforeUnmount(() => {
    window.removeEventListener('keydown', down);
    if (options.keyup) window.removeEventListener('keyup', up);
  });
}

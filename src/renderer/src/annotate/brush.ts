/*
 * The editor's tool settings (tool, brush size, overlay opacity), kept between images and across
 * sessions in localStorage. Whatever is stored is parsed and clamped; a broken entry falls back to
 * the defaults. No editing logic here.
 */
import { z } from 'zod';

export const TOOLS = ['brush', 'eraser', 'box', 'polygon'] as const;
export type Tool = (typeof TOOLS)[number];

export const BRUSH_KEY = 'kd-lens-brush';
export const MIN_BRUSH = 1;
export const MAX_BRUSH = 64;

export interface BrushSettings {
  tool: Tool;
  size: number;
  opacity: number;
}

export const DEFAULT_BRUSH: BrushSettings = { tool: 'brush', size: 5, opacity: 0.45 };

const StoredSchema = z.object({ tool: z.enum(TOOLS), size: z.number(), opacity: z.number() });

export function clampSize(size: number): number {
  return Number.isFinite(size) ? Math.max(MIN_BRUSH, Math.min(MAX_BRUSH, Math.round(size))) : DEFAULT_BRUSH.size;
}

export function clampOpacity(opacity: number): number {
  return Number.isFinite(opacity) ? Math.max(0, Math.min(1, opacity)) : DEFAULT_BRUSH.opacity;
}

export function loadBrush(storage: Pick<Storage, 'getItem'> | null): BrushSettings {
  try {
    const raw = storage?.getItem(BRUSH_KEY);
    if (!raw) return { ...DEFAULT_BRUSH };
    const r = StoredSchema.safeParse(JSON.parse(raw));
    if (!r.success) return { ...DEFAULT_BRUSH };
    return { tool: r.data.tool, size: clampSize(r.data.size), opacity: clampOpacity(r.data.opacity) };
  } catch {
    return { ...DEFAULT_BRUSH };
  }
}

export function saveBrush(storage: Pick<Storage, 'setItem'> | null, settings: BrushSettings): void {
  try {
    storage?.setItem(BRUSH_KEY, JSON.stringify(settings));
  } catch {
    // storage full or disabled: the settings still hold for this session
  }
}

/**
 * `[` and `]`: steps of 1 px up to 10, of 2 up to 24, of 4 beyond (so big brushes move fast);
 * symmetric, so `]` then `[` returns to the same size.
 */
export function stepSize(size: number, direction: -1 | 1): number {
  const s = clampSize(size);
  const step = direction > 0 ? (s < 10 ? 1 : s < 24 ? 2 : 4) : s <= 10 ? 1 : s <= 24 ? 2 : 4;
  return clampSize(s + direction * step);
}

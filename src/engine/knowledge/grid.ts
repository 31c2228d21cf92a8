/*
 * The G x G grid of input units (method.md section 1) and foreground masks taken to it (section 2).
 * Pure functions on plain arrays: no tensors, no files.
 */

/** Cell row (or column) of pixel row r (0-based) in an image of `size` pixels: floor(r * G / size). */
export function cellOfPixel(r: number, size: number, grid: number): number {
  return Math.floor((r * grid) / size);
}

/** First pixel row of cell a: the smallest r with floor(r * G / size) = a, i.e. ceil(a * size / G). */
export function firstPixelOfCell(a: number, size: number, grid: number): number {
  return Math.ceil((a * size) / grid);
}

/**
 * The [size x grid] 0/1 matrix U with U[r][a] = 1 iff pixel r lies in cell a; U * sigma * U^T is the
 * nearest upsampling of a G x G map to the image (row-major Float32Array).
 */
export function upsamplingMatrix(size: number, grid: number): Float32Array {
  const u = new Float32Array(size * grid);
  for (let r = 0; r < size; r++) u[r * grid + cellOfPixel(r, size, grid)] = 1;
  return u;
}

/**
 * How a pixel mask becomes cell labels: the top-left pixel of each cell (the authors' code), the
 * majority of the cell's pixels, or any of them. 'any' is ours, for thin objects (digit strokes of
 * 2-3 px in 4 px cells), where top-left sampling calls most cells that hold the object background.
 */
export type MaskRule = 'top-left' | 'majority' | 'any';
export const MASK_RULES: readonly MaskRule[] = ['top-left', 'majority', 'any'];

/**
 * Foreground flags of the G x G cells (row-major, 1 = foreground) from a mask of height x width
 * pixels (row-major, any value > 0 is foreground).
 * - 'top-left': cell (a, b) takes the pixel (ceil(a H / G), ceil(b W / G)).
 * - 'majority': foreground iff more than half of the cell's pixels are foreground.
 * - 'any': foreground iff at least one of the cell's pixels is foreground.
 */
export function maskToGrid(
  mask: ArrayLike<number>,
  { height, width }: { height: number; width: number },
  grid: number,
  rule: MaskRule = 'top-left'
): Uint8Array {
  if (mask.length !== height * width) throw new Error(`mask has ${mask.length} values, expected ${height} x ${width}`);
  if (height < grid || width < grid)
    throw new Error(`a ${height} x ${width} mask cannot be split into a ${grid} x ${grid} grid`);
  const cells = new Uint8Array(grid * grid);
  if (rule === 'top-left') {
    for (let a = 0; a < grid; a++) {
      const r = firstPixelOfCell(a, height, grid);
      for (let b = 0; b < grid; b++) {
        const c = firstPixelOfCell(b, width, grid);
        cells[a * grid + b] = mask[r * width + c] > 0 ? 1 : 0;
      }
    }
    return cells;
  }
  const fg = new Float64Array(grid * grid);
  const total = new Float64Array(grid * grid);
  for (let r = 0; r < height; r++) {
    const a = cellOfPixel(r, height, grid);
    for (let c = 0; c < width; c++) {
      const k = a * grid + cellOfPixel(c, width, grid);
      total[k]++;
      if (mask[r * width + c] > 0) fg[k]++;
    }
  }
  for (let k = 0; k < cells.length; k++) cells[k] = rule === 'any' ? (fg[k] > 0 ? 1 : 0) : fg[k] * 2 > total[k] ? 1 : 0;
  return cells;
}

/**
 * The paper's rule for box-only data (ILSVRC DET): the central region of the grid is foreground.
 * `fraction` is the side of the region relative to the grid (12/16 in the paper's code).
 */
export function centreRegionCells(grid: number, fraction = 0.75): Uint8Array {
  const side = Math.round(grid * fraction);
  const start = Math.floor((grid - side) / 2);
  const cells = new Uint8Array(grid * grid);
  for (let a = start; a < start + side; a++) for (let b = start; b < start + side; b++) cells[a * grid + b] = 1;
  return cells;
}

/*
 * The KdApi types of the datasets area: an import's request, a sample's images and a mask being
 * edited. Types only, runtime-neutral (no Node, Electron or Vue); api.ts re-exports them.
 */
export interface ImportRequest {
  format: 'folder' | 'voc' | 'cub' | 'coco';
  /** The folder to import (for COCO: the images folder); from the UI, a folder the user picked or inside one. */
  src: string;
  /** COCO: the instances JSON file; folder: the root of the parallel mask tree. */
  ann?: string;
  /** Display name; the dataset id is its slug. */
  name: string;
  /** Working size: every crop and mask is stored size x size (default 64). */
  size?: number;
  /** Each object's box is enlarged this much about its centre before cropping (default 1.2). */
  cropScale?: number;
  /** Import only these classes (names as in the source). */
  classes?: string[];
  /** At most this many samples per class (a seeded choice of source images). */
  maxPerClass?: number;
  /** Objects whose box is narrower or shorter than this (source pixels) are skipped (default 1). */
  minSize?: number;
  /** Folder format without masks: foreground is the central 2/3 of the image instead of all of it. */
  centreRegion?: boolean;
  /** What to call the source in messages instead of its path (an upload: the user's zip or folder name). */
  sourceLabel?: string;
}

/** A sample's crop and mask as PNG data URLs. */
export interface SampleImages {
  image: string;
  mask: string;
  width: number;
  height: number;
}

/** A mask as 0/1 values, row-major, base64 of one byte per pixel. */
export interface MaskData {
  width: number;
  height: number;
  data: string;
  canUndo: number;
  canRedo: number;
  edited: boolean;
}

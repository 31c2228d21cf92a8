/*
 * A real-photo dataset in Pascal VOC's layout, built at test time (issue 20): JPEG scenes of
 * Debian's mate-backgrounds photos (GPL-2+, see tests/helpers/photo-dataset.ts; read where the
 * package put them, never copied into this repository) each holding one object, an elliptic cut-out
 * of one of five object photos, with its Annotations XML (bndbox in VOC's 1-based inclusive
 * pixels), SegmentationObject and SegmentationClass PNGs in VOC's palette with the 255 void band
 * around the object, and ImageSets/Segmentation train/val lists, zipped as VOC's tar unpacks:
 * <top>/VOCdevkit/VOC2012/... (a top folder above VOCdevkit, as a user's zip of it has).
 */
import sharp from 'sharp';
import { Rng } from '../../src/engine/util/random';
import { vocColour, VOID } from '../../src/engine/data/masks/voc';
import { BACKGROUND_PHOTOS, OBJECT_PHOTOS, PHOTO_DIR } from './photo-dataset';
import { writeZip, type ZipFile } from './zip-writer';

const WIDTH = 256;
/** The scene's size (VOC's photos are about 500 x 375; these are smaller to keep the test quick). */
const SCENE = { width: 120, height: 90 };

export interface VocPhotoOptions {
  trainPerClass: number;
  valPerClass: number;
  seed: number;
  /** The zip's top folder (default 'VOCtrainval'). */
  top?: string;
}

interface Photo {
  data: Buffer;
  width: number;
  height: number;
}

async function loadPhoto(name: string): Promise<Photo> {
  const { data, info } = await sharp(`${PHOTO_DIR}/${name}.jpg`)
    .resize({ width: WIDTH })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The pixel of `photo` under scene pixel (r, c) of a window at (r0, c0) scaled by `scale`. */
function sample(photo: Photo, at: { r0: number; c0: number; scale: number; r: number; c: number }, ch: number): number {
  const sr = Math.min(photo.height - 1, at.r0 + Math.floor((at.r + 0.5) * at.scale));
  const sc = Math.min(photo.width - 1, at.c0 + Math.floor((at.c + 0.5) * at.scale));
  return photo.data[(sr * photo.width + sc) * 3 + ch];
}

/** One scene: RGB bytes, the object's label image (1 inside, VOID on its 2-pixel border, 0 outside) and box. */
function scene(rng: Rng, objectPhoto: Photo, backgrounds: Photo[]) {
  const { width, height } = SCENE;
  const bg = backgrounds[rng.int(backgrounds.length)];
  const bgScale = 0.5 + rng.uniform() * (Math.min(bg.width / width, bg.height / height) - 0.5);
  const bgAt = {
    r0: rng.int(Math.max(1, Math.floor(bg.height - height * bgScale))),
    c0: rng.int(Math.max(1, Math.floor(bg.width - width * bgScale)))
  };
  const objScale = 0.5 + rng.uniform();
  const objAt = {
    r0: rng.int(Math.max(1, Math.floor(objectPhoto.height - height * objScale))),
    c0: rng.int(Math.max(1, Math.floor(objectPhoto.width - width * objScale)))
  };
  // An ellipse with semi-axes 14-30 px at a random angle, inside the scene with a 3-pixel margin.
  const a = 14 + 16 * rng.uniform();
  const b = 14 + 16 * rng.uniform();
  const t = Math.PI * rng.uniform();
  const reach = Math.max(a, b) + 3;
  const cr = reach + rng.uniform() * (height - 2 * reach);
  const cc = reach + rng.uniform() * (width - 2 * reach);
  const rgb = new Uint8Array(width * height * 3);
  const labels = new Uint8Array(width * height);
  let box = [width, height, -1, -1];
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const dy = r + 0.5 - cr;
      const dx = c + 0.5 - cc;
      const u = dx * Math.cos(t) + dy * Math.sin(t);
      const v = -dx * Math.sin(t) + dy * Math.cos(t);
      const d = Math.sqrt((u * u) / (a * a) + (v * v) / (b * b));
      const inside = d <= 1;
      const i = r * width + c;
      for (let ch = 0; ch < 3; ch++)
        rgb[3 * i + ch] = inside
          ? sample(objectPhoto, { ...objAt, scale: objScale, r, c }, ch)
          : sample(bg, { ...bgAt, scale: bgScale, r, c }, ch);
      if (inside) {
        labels[i] = 1;
        box = [Math.min(box[0], c), Math.min(box[1], r), Math.max(box[2], c), Math.max(box[3], r)];
      } else if (d <= 1 + 2 / Math.min(a, b)) labels[i] = VOID;
    }
  }
  return { rgb, labels, box };
}

const paletted = (labels: Uint8Array, as: number): Buffer => {
  const out = Buffer.alloc(labels.length * 3);
  for (let i = 0; i < labels.length; i++) {
    const [r, g, b] = vocColour(labels[i] === 1 ? as : labels[i]);
    out[3 * i] = r;
    out[3 * i + 1] = g;
    out[3 * i + 2] = b;
  }
  return out;
};

const png = (bytes: Uint8Array): Promise<Buffer> =>
  sharp(Buffer.from(bytes), { raw: { width: SCENE.width, height: SCENE.height, channels: 3 } })
    .png()
    .toBuffer();

const xml = (o: { stem: string; className: string; box: number[] }): string =>
  `<annotation>\n  <folder>VOC2012</folder>\n  <filename>${o.stem}.jpg</filename>\n` +
  `  <size><width>${SCENE.width}</width><height>${SCENE.height}</height><depth>3</depth></size>\n` +
  `  <segmented>1</segmented>\n  <object>\n    <name>${o.className}</name>\n    <pose>Unspecified</pose>\n` +
  `    <truncated>0</truncated>\n    <difficult>0</difficult>\n    <bndbox><xmin>${o.box[0] + 1}</xmin>` +
  `<ymin>${o.box[1] + 1}</ymin><xmax>${o.box[2] + 1}</xmax><ymax>${o.box[3] + 1}</ymax></bndbox>\n` +
  `  </object>\n</annotation>\n`;

/** The zip's bytes and its classes (the object photos' names, lower case). */
export async function vocPhotoZip(opts: VocPhotoOptions): Promise<{ zip: Buffer; classes: string[] }> {
  const rng = new Rng(opts.seed);
  const objects = await Promise.all(OBJECT_PHOTOS.map(loadPhoto));
  const backgrounds = await Promise.all(BACKGROUND_PHOTOS.map(loadPhoto));
  const classes = OBJECT_PHOTOS.map((p) => p.toLowerCase());
  const root = `${opts.top ?? 'VOCtrainval'}/VOCdevkit/VOC2012`;
  const files: ZipFile[] = [];
  const lists = { train: [] as string[], val: [] as string[] };
  for (let k = 0; k < objects.length; k++) {
    for (let i = 0; i < opts.trainPerClass + opts.valPerClass; i++) {
      const stem = `2026_${String(k * 1000 + i).padStart(6, '0')}`;
      const s = scene(rng, objects[k], backgrounds);
      const jpg = await sharp(Buffer.from(s.rgb), { raw: { width: SCENE.width, height: SCENE.height, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer();
      files.push(
        { name: `${root}/JPEGImages/${stem}.jpg`, data: jpg, store: true },
        { name: `${root}/Annotations/${stem}.xml`, data: xml({ stem, className: classes[k], box: s.box }) },
        { name: `${root}/SegmentationObject/${stem}.png`, data: await png(paletted(s.labels, 1)), store: true },
        { name: `${root}/SegmentationClass/${stem}.png`, data: await png(paletted(s.labels, k + 1)), store: true }
      );
      lists[i < opts.trainPerClass ? 'train' : 'val'].push(stem);
    }
  }
  for (const split of ['train', 'val'] as const)
    files.push({ name: `${root}/ImageSets/Segmentation/${split}.txt`, data: lists[split].join('\n') + '\n' });
  return { zip: writeZip(files), classes };
}

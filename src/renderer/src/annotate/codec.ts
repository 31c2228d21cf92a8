/*
 * MaskData.data <-> bytes: base64 of one byte per pixel (0/1), row-major. Uses atob/btoa so it
 * runs in Electron's sandboxed renderer and in a browser; no Node Buffer.
 */

export function decodeMask(base64: string, length: number): Uint8Array {
  const binary = atob(base64);
  if (binary.length !== length) throw new Error(`the mask has ${binary.length} values, expected ${length}`);
  const out = new Uint8Array(length);
  for (let k = 0; k < length; k++) out[k] = binary.charCodeAt(k) ? 1 : 0;
  return out;
}

export function encodeMask(data: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let k = 0; k < data.length; k += chunk) {
    const part = data.subarray(k, k + chunk);
    binary += String.fromCharCode(...Array.from(part, (v) => (v ? 1 : 0)));
  }
  return btoa(binary);
}

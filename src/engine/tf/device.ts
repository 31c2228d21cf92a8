/*
 * `--device cpu|gpu|auto` for the TF.js side (training, and quantification on the TF.js engine), so that one switch
 * moves both engines: ONNX Runtime's providers are chosen in onnx/runtime.ts, the TF.js backend here. A named
 * backend (--backend, the configuration's backend, KD_LENS_BACKEND) wins over the device; gpu forces webgpu and
 * fails with the reason; auto tries a GPU adapter that passes the self-check, then the CPU order, saying why; cpu
 * takes the CPU order only.
 */
import { initBackend, initBackendForDevice, parseBackendName, type BackendChoice } from './backend';
import type { DeviceRequest } from '../onnx/runtime';

export interface BackendRequest {
  /** A named backend (flag or configuration); null or undefined: none named. */
  backend?: string | null;
  /** The device asked for (null or undefined: not asked; the default order runs). */
  device?: DeviceRequest | null;
  /** Names the device's origin in reasons and errors, e.g. '--device' or 'config.json field device'. */
  origin?: string;
}

/** Starts the TF.js backend a run asks for; the reason says what runs and which switch chose it. */
export async function initBackendFor(req: BackendRequest): Promise<BackendChoice> {
  const named = req.backend ?? undefined;
  if (
    parseBackendName(named, '--backend') !== undefined ||
    parseBackendName(process.env.KD_LENS_BACKEND, 'KD_LENS_BACKEND') !== undefined ||
    !req.device
  )
    return initBackend(named);
  const origin = req.origin ?? '--device';
  if (req.device === 'gpu') {
    try {
      const choice = await initBackendForDevice('gpu');
      return { ...choice, reason: choice.reason.replace(/requested by --backend$/, `requested by ${origin} gpu`) };
    } catch (err) {
      const msg = (err instanceof Error ? err.message : String(err))
        .replace(/^--backend: the webgpu backend is not available: /, '')
        .replace(/ Use --backend auto or wasm\.$/, '');
      throw new Error(
        `${origin} gpu: TF.js has no usable GPU here (webgpu: ${msg.replace(/\.$/, '')}); use --device auto to fall back to the CPU, or --device cpu`
      );
    }
  }
  const choice = await initBackendForDevice(req.device);
  return {
    ...choice,
    reason: `${choice.reason} (${origin} ${req.device}${req.device === 'cpu' ? ': webgpu not tried' : ''})`
  };
}

/*
 * The host's queue of calibration jobs (the timed steps behind a run's time estimate): one
 * calibration per configuration key, shared by every caller asking meanwhile, and one at a time:
 * two timed together slow each other down (the first screen once showed 11 and 18 minutes for the
 * same demo, both 2-3x the truth). A failed calibration is forgotten, so the next caller retries.
 */
import type { Calibration } from '../engine/estimate';

export type SharedCalibration = (key: string, calibrate: () => Promise<Calibration>) => Promise<Calibration>;

export function createCalibrationQueue(): SharedCalibration {
  const calibrations = new Map<string, Promise<Calibration>>();
  let calibrating: Promise<unknown> = Promise.resolve();
  return (key, calibrate) => {
    let cal = calibrations.get(key);
    if (!cal) {
      cal = calibrating.then(calibrate);
      calibrating = cal.catch(() => undefined);
      calibrations.set(key, cal);
      cal.catch(() => calibrations.delete(key));
    }
    return cal;
  };
}

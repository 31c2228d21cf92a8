/* Where each file of an experiment lives (design.md, "Data on disk"). */
import { join } from 'node:path';
import { experimentDir } from '../store/workspace';

export class ExperimentPaths {
  readonly root: string;

  constructor(
    workspace: string,
    readonly id: string
  ) {
    this.root = experimentDir(workspace, id);
  }

  get config(): string {
    return join(this.root, 'config.json');
  }
  get state(): string {
    return join(this.root, 'state.json');
  }
  get images(): string {
    return join(this.root, 'images.json');
  }
  get metrics(): string {
    return join(this.root, 'metrics.json');
  }
  get report(): string {
    return join(this.root, 'report.html');
  }
  /** A study's accuracies of the final checkpoints on the validation split. */
  get accuracy(): string {
    return join(this.root, 'accuracy.json');
  }
  get events(): string {
    return join(this.root, 'events.jsonl');
  }
  /** models/<net>/ */
  net(net: string): string {
    return join(this.root, 'models', net);
  }
  /** The resume folder of one training stage of a network. */
  stage(net: string, stage: string): string {
    return join(this.net(net), stage);
  }
  /** An analysed checkpoint in TF.js layers format. */
  checkpoint(net: string, epoch: number): string {
    return join(this.net(net), `epoch-${epoch}`);
  }
  /** The network's final model (after every stage). */
  final(net: string): string {
    return join(this.net(net), 'final');
  }
  /** models/<net>/train-log.json */
  trainLog(net: string): string {
    return join(this.net(net), 'train-log.json');
  }
  /** models/<net>/path-length.json */
  pathLength(net: string): string {
    return join(this.net(net), 'path-length.json');
  }
  /** knowledge/<net>/<checkpoint>.npy and its .json sidecar (sigma_f2, steps, ...). */
  maps(net: string, checkpoint: string): { npy: string; json: string } {
    const base = join(this.root, 'knowledge', net, checkpoint);
    return { npy: `${base}.npy`, json: `${base}.json` };
  }
}

/** Network ids: T; S and B for the first seed, S-1, B-1 ... for further seeds. */
export function netId(role: 'S' | 'B', seedIndex: number): string {
  return seedIndex === 0 ? role : `${role}-${seedIndex}`;
}

/*
 * The KdApi types of ONNX models as a run's architecture (src/host/onnx-models.ts): a models/ file
 * and what describeOnnxModel found in it. Types only, runtime-neutral; api.ts re-exports them.
 */
/** An ONNX model file kept in the workspace's models/ folder (the Experiment form's "your own network"). */
export interface OnnxModelEntry {
  /** Relative to the workspace, as the run configuration names it: "models/NAME.onnx". */
  path: string;
  bytes: number;
}

/** What describeOnnxModel found in a models/ file (src/host/onnx-models.ts), and whether a run's choices pass. */
export interface OnnxModelInfo {
  path: string;
  bytes: number;
  /** The image input, NCHW with the batch left out. */
  input: { name: string; channels: number; height: number; width: number };
  /** The classifier replaced for the target classes (named, or the last Gemm/MatMul, else a 1x1 Conv to the output); null: none found (see classifierError). */
  classifier: { node: string; op: 'Gemm' | 'MatMul' | 'Conv'; features: number; outputs: number } | null;
  classifierError: string | null;
  /** The Gemm/MatMul nodes that read the image (and a Conv classifier found): the classifiers a user may name. */
  classifiers: string[];
  /** The candidate taps: the nodes from the input to the classifier, in graph order (name, op, the value it writes). */
  taps: { name: string; op: string; output: string }[];
  /** A first choice of tap: the last ReLU before the classifier (else the last candidate); null without one. */
  suggestedTap: string | null;
  /** With a tap and a dataset: the whole run's check (planOnnxArchitecture) — null when it passes, else its refusal; absent when not asked. */
  problem?: string | null;
}

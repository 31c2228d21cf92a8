/*
 * The ONNX training engine: a TrainEngine (training/engine.ts) whose step is one run of the graph
 * train-graph.ts compiles for the stage. Weights and momenta live in ONNX Runtime tensors: each
 * step's outputs are the next step's inputs. What still crosses JS per step: the batch (images,
 * one-hot labels or the teacher's target feature), the dropout masks, and the copy ONNX Runtime's
 * Node binding makes of every output into a JS buffer (weights and momenta of the trained layers:
 * about 2 x 4 bytes x parameters). The TF.js model is only written at flush (at the loop's snapshots
 * and the epoch's end), and only when a step moved the weights since the last flush or reload.
 * Stage 1's target comes from the teacher's features graph (compile.ts), run on the same runtime;
 * so do the teacher's logits and attention-layer activations for student.method.
 * The per-epoch evaluation runs on the same runtime too (train-eval.ts: a forward graph fed the
 * tensors held here, with the teacher graphs above for stage 1 and student.method).
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type * as Ort from 'onnxruntime-node';
import type { StepInput, StepOutcome, StepSpec, TrainEngine, TrainStepper } from '../training/engine';
import { evaluate as evaluateOnTfjs } from '../training/evaluate';
import { evaluator, stageEvaluation, type Evaluator } from './train-eval';
import { modelFromTfjsAsync } from './from-tfjs';
import { compileFeatures } from './compile';
import { encodeFor, sessionOptions, type RuntimeChoice } from './runtime';
import { compileTrainStep, teacherAttentionInput, TRAIN_INPUTS, type TrainObjective } from './train-graph';
import { linkParams, unfoldBatchNorms, type ParamLink } from './tfjs-params';
import { CompileError } from './rules/rule';
import { dropoutMasks, dropoutValues } from './tfjs-dropout';
import { SpinMonitor, spinOptions, spinSetting, type CpuSource, type SpinSetting } from './spin-policy';

export interface OnnxTrainSetup {
  runtime: RuntimeChoice;
  /** Whether threads spin (spin-policy.ts; default: KD_LENS_ORT_SPIN and the CPU quota decide). */
  spin?: SpinSetting;
  /** Where the spin policy reads the CPU times and the clock (tests feed their own). */
  cpu?: CpuSource;
  /** Called with the compiled step graph's bytes (for --save-graph). */
  onGraph?: (
    name: 'train-step' | 'teacher-features' | 'teacher-logits' | 'teacher-attention' | 'evaluate',
    bytes: Uint8Array
  ) => void;
}

export function onnxTrainEngine(setup: OnnxTrainSetup): TrainEngine {
  const { ort } = setup.runtime;
  return {
    kind: 'onnx',
    async open(spec: StepSpec): Promise<TrainStepper> {
      const { model, objective } = spec;
      // TF.js runs the feature objective's student in inference mode, the labels' and student.method's in training mode.
      const training = objective.kind !== 'feature';
      const baseIr = await modelFromTfjsAsync(model, spec.name);
      const ir = await unfoldBatchNorms(model, baseIr, training);
      const links = linkParams(model, ir, spec.trainable);
      // Batch norms in training mode update their moving statistics, trained or not (as TF.js does).
      const stateVars = training
        ? model.layers
            .filter((l) => l.getClassName() === 'BatchNormalization')
            .flatMap((l) => l.weights.filter((w) => /moving_(mean|variance)$/.test(w.originalName)))
        : [];
      const stateLinks = linkParams(model, ir, stateVars);
      const ordered: ParamLink[] = spec.trainable.map((v) => links.get(v)!);
      const tapLink = spec.tapKernel ? links.get(spec.tapKernel) : null;
      if (spec.tapKernel && !tapLink)
        throw new CompileError(`${spec.name}: the tap kernel '${spec.tapKernel.name}' is not trained in this stage`);
      let trainObjective: TrainObjective;
      // Teacher graphs run per batch on the same runtime, each feeding one input of the step graph.
      const teacherGraphs: { input: string; bytes: Uint8Array }[] = [];
      const teachers: { input: string; session: Ort.InferenceSession }[] = [];
      const s = spec.imageSize;
      // Whether the threads spin while a step runs follows the machine's load (spin-policy.ts).
      const spin = new SpinMonitor({
        setting: setup.runtime.provider === 'cpu' ? (setup.spin ?? spinSetting()) : 'off',
        threads: setup.runtime.threads,
        // The machine's CPU times cover all its cores, whatever this process may run on.
        cores: os.cpus().length,
        cpu: setup.cpu
      });
      const optionsFor = (spinning: boolean): Ort.InferenceSession.SessionOptions => ({
        ...sessionOptions(setup.runtime),
        extra: spinOptions(spinning)
      });
      const options = optionsFor(false);
      const teacherGraph = (o: { teacher: tf.LayersModel; tap: string; input: string }): Promise<void> =>
        modelFromTfjsAsync(o.teacher, `${spec.name} (teacher)`).then((tIr) => {
          const dims = { height: s, width: s, channels: 3, grid: 1, samples: 1, relu: false };
          const bytes = encodeFor(compileFeatures(tIr, o.tap, dims).graph, setup.runtime);
          const kind =
            o.input === TRAIN_INPUTS.target
              ? 'features'
              : o.input === TRAIN_INPUTS.teacherLogits
                ? 'logits'
                : 'attention';
          setup.onGraph?.(`teacher-${kind}`, bytes);
          teacherGraphs.push({ input: o.input, bytes });
        });
      const output = model.outputs[0].sourceLayer.name;
      if (objective.kind === 'labels') {
        trainObjective = {
          kind: 'labels',
          output: ir.tapValues.get(output) ?? output,
          numClasses: objective.numClasses
        };
      } else if (objective.kind === 'distill') {
        const source = objective.source;
        if (!source) throw new CompileError(`${spec.name}: the distill objective does not name its teacher`);
        if (objective.featureScale !== null && !source.tap)
          throw new CompileError(`${spec.name}: the distill objective's feature term does not name its tap`);
        const feature = objective.featureScale !== null ? { tap: source.tap!, scale: objective.featureScale } : null;
        trainObjective = {
          kind: 'distill',
          output: ir.tapValues.get(output) ?? output,
          numClasses: objective.numClasses,
          feature,
          logits: objective.logits,
          attention: objective.attentionBeta !== null ? { layers: source.layers, beta: objective.attentionBeta } : null
        };
        const teacherOutput = source.teacher.outputs[0].sourceLayer.name;
        if (objective.logits)
          await teacherGraph({ teacher: source.teacher, tap: teacherOutput, input: TRAIN_INPUTS.teacherLogits });
        if (feature) await teacherGraph({ teacher: source.teacher, tap: feature.tap, input: TRAIN_INPUTS.target });
        if (objective.attentionBeta !== null)
          for (const [i, layer] of source.layers.entries())
            await teacherGraph({ teacher: source.teacher, tap: layer, input: teacherAttentionInput(i) });
      } else {
        if (!objective.source) throw new CompileError(`${spec.name}: the feature objective does not name its teacher`);
        trainObjective = { kind: 'feature', tap: objective.source.tap, scale: objective.scale };
        await teacherGraph({
          teacher: objective.source.teacher,
          tap: objective.source.tap,
          input: TRAIN_INPUTS.target
        });
      }
      // Dropout is active where TF.js applies the model in training mode: the labels objective only.
      const dropout = training ? dropoutValues(model, ir) : [];
      const compiled = compileTrainStep(
        {
          model: ir,
          trainable: ordered.map((l) => l.name),
          objective: trainObjective,
          momentum: spec.opt.momentum,
          weightDecay: spec.opt.weightDecay,
          tapKernel: tapLink?.name ?? null,
          dropout,
          state: stateVars.map((v) => stateLinks.get(v)!.name)
        },
        { height: s, width: s }
      );
      const bytes = encodeFor(compiled.graph, setup.runtime);
      setup.onGraph?.('train-step', bytes);
      // The evaluation graph (batch norms in inference mode), fed the parameters and moving statistics held here.
      const evaluation = await stageEvaluation({
        objective,
        model: async () => (training ? unfoldBatchNorms(model, baseIr, false) : ir),
        output,
        fed: [...ordered.map((l) => l.name), ...stateVars.map((v) => stateLinks.get(v)!.name)],
        imageSize: s
      });
      const evalGraph = evaluation?.graph ?? null;
      const evalBytes = evalGraph ? encodeFor(evalGraph.graph, setup.runtime) : null;
      if (evalBytes) setup.onGraph?.('evaluate', evalBytes);
      // Sessions open only once everything compiled, so a refusal leaves nothing to release.
      const openStep = async (spinning: boolean): Promise<Ort.InferenceSession> => {
        const stepOptions = optionsFor(spinning);
        const opened = await ort.InferenceSession.create(bytes, stepOptions);
        for (const [i, t] of teacherGraphs.entries()) {
          const teacher = await ort.InferenceSession.create(t.bytes, stepOptions);
          if (teachers[i]) void teachers[i].session.release();
          teachers[i] = { input: t.input, session: teacher };
        }
        return opened;
      };
      let session = await openStep(await spin.decide());
      let scorer: Evaluator | null = null;
      let evalSession: Ort.InferenceSession | null = null;
      if (evaluation) {
        evalSession = await ort.InferenceSession.create(evalBytes!, options);
        scorer = evaluator({ ort, session: evalSession, eval: evaluation.graph, loss: evaluation.loss, teachers });
      }
      const f32 = (data: Float32Array, dims: readonly number[]): Ort.Tensor =>
        new ort.Tensor('float32', data, [...dims]);
      let weights: Ort.Tensor[] = [];
      let momenta: Ort.Tensor[] = [];
      const stateOf = new Map(compiled.state.map((st) => [st.name, st]));
      const stateLinked = stateVars.map((v) => stateLinks.get(v)!).filter((l) => stateOf.has(l.name));
      let state: Ort.Tensor[] = [];
      // Whether the engine's tensors moved past what the TF.js model holds: a flush with nothing new
      // (the epoch's first snapshot right after the epoch-end flush, a flush after reload) writes nothing.
      let dirty = false;

      const reload = async (): Promise<void> => {
        weights = await Promise.all(
          ordered.map(async (l) => f32(l.toOnnx((await l.variable.read().data()) as Float32Array), l.dims))
        );
        state = await Promise.all(
          stateLinked.map(async (l) => f32((await l.variable.read().data()) as Float32Array, l.dims))
        );
        dirty = false;
        const saved = await spec.opt.state();
        momenta = ordered.map((l, i) => {
          const m = saved[i];
          return f32(m && m.values.length ? l.toOnnx(m.values) : new Float32Array(weights[i].size), l.dims);
        });
      };
      await reload();
      const { loss, gradNorm, predictions, pathStep } = compiled.outputs;
      const plural = setup.runtime.threads === 1 ? '' : 's';
      const stepper: TrainStepper = {
        description: `onnx ${setup.runtime.provider} — ${setup.runtime.threads} thread${plural}`,
        get threadsSpin(): boolean {
          return spin.spinning;
        },
        async step(input: StepInput): Promise<StepOutcome> {
          const n = input.n;
          const feeds: Record<string, Ort.Tensor> = {
            [TRAIN_INPUTS.x]: f32(input.x, [n, s, s, 3]),
            [TRAIN_INPUTS.lr]: f32(Float32Array.of(input.lr), []),
            [TRAIN_INPUTS.clip]: f32(Float32Array.of(input.clipNorm), [])
          };
          if (objective.kind !== 'feature') {
            const k = objective.numClasses;
            const onehot = new Float32Array(n * k);
            for (let i = 0; i < n; i++) onehot[i * k + input.labels[i]] = 1;
            feeds[TRAIN_INPUTS.onehot] = f32(onehot, [n, k]);
          }
          for (const t of teachers) {
            const out = await t.session.run({ kd_x: feeds[TRAIN_INPUTS.x] });
            feeds[t.input] = out[t.session.outputNames[0]] as Ort.Tensor;
          }
          for (const m of dropoutMasks(model, compiled.masks, input)) feeds[m.input] = f32(m.data, m.dims);
          compiled.params.forEach((p, i) => {
            feeds[p.name] = weights[i];
            feeds[p.momentumInput] = momenta[i];
          });
          stateLinked.forEach((l, i) => (feeds[l.name] = state[i]));
          const out = await session.run(feeds);
          if (spin.due()) {
            const started = performance.now();
            const previous = session;
            session = await openStep(spin.spinning);
            void previous.release();
            spin.reopened(performance.now() - started);
          }
          const lossValue = (out[loss].data as Float32Array)[0];
          const norm = (out[gradNorm].data as Float32Array)[0];
          const predicted = predictions ? Array.from(out[predictions].data as BigInt64Array, Number) : null;
          if (!Number.isFinite(lossValue)) return { loss: lossValue, predicted, pathStep: null, gradNorm: norm };
          weights = compiled.params.map((p) => out[p.next] as Ort.Tensor);
          momenta = compiled.params.map((p) => out[p.momentumNext] as Ort.Tensor);
          state = stateLinked.map((l) => out[stateOf.get(l.name)!.next] as Ort.Tensor);
          dirty = true;
          return {
            loss: lossValue,
            predicted,
            pathStep: pathStep ? (out[pathStep].data as Float32Array)[0] : null,
            gradNorm: norm
          };
        },
        async flush() {
          if (!dirty) return;
          dirty = false;
          stateLinked.forEach((l, i) => {
            const t = tf.tensor(state[i].data as Float32Array, l.variable.shape as number[]);
            l.variable.write(t);
            t.dispose();
          });
          ordered.forEach((l, i) => {
            const t = tf.tensor(l.toTfjs(weights[i].data as Float32Array), l.variable.shape as number[]);
            l.variable.write(t);
            t.dispose();
          });
          spec.opt.restore(
            ordered.map((l, i) => ({
              name: `m${i}`,
              shape: l.variable.shape as number[],
              values: l.toTfjs(momenta[i].data as Float32Array)
            }))
          );
        },
        async evaluate(set) {
          if (!scorer) {
            await stepper.flush();
            return evaluateOnTfjs(model, objective, set);
          }
          const params = new Map<string, Ort.Tensor>();
          ordered.forEach((l, i) => params.set(l.name, weights[i]));
          stateLinked.forEach((l, i) => params.set(l.name, state[i]));
          return scorer.evaluate(set, params);
        },
        reload,
        dispose() {
          void session.release();
          void evalSession?.release();
          for (const t of teachers) void t.session.release();
        }
      };
      return stepper;
    }
  };
}

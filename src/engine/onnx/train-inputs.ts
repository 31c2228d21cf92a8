/*
 * The input names of the training-step graph (train-graph.ts), shared by the graph's parts and the
 * engine that feeds it (train-engine.ts).
 */
export const TRAIN_INPUTS = {
  x: 'kd_x',
  onehot: 'kd_onehot',
  target: 'kd_target',
  teacherLogits: 'kd_teacher_logits',
  lr: 'kd_lr',
  clip: 'kd_clip'
};

/** The input of the teacher's activation at the i-th attention layer (student.method's attention transfer). */
export const teacherAttentionInput = (i: number): string => `kd_teacher_attention_${i}`;

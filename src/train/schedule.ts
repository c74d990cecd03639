// Learning-rate schedule: linear warm-up, then cosine decay to minFactor·lr at totalSteps.
export interface ScheduleConfig {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  minFactor: number;
}

export function learningRate(step: number, s: ScheduleConfig): number {
  if (s.warmupSteps > 0 && step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / span);
  const cos = 0.5 * (1 + Math.cos(Math.PI * progress));
  return s.lr * (s.minFactor + (1 - s.minFactor) * cos);
}

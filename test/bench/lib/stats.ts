/** The q-quantile (0..1) of `values` by nearest rank; NaN when empty. */
export const quantile = (values: readonly number[], q: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank] as number
}

export const median = (values: readonly number[]): number => quantile(values, 0.5)

export const mean = (values: readonly number[]): number =>
  values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length

/** p50, p99, max and count of latency samples (ms). */
export const latencySummary = (samples: readonly number[]) => ({
  count: samples.length,
  p50: quantile(samples, 0.5),
  p90: quantile(samples, 0.9),
  p99: quantile(samples, 0.99),
  max: samples.length === 0 ? Number.NaN : Math.max(...samples),
})

/** Cumulative bucket counts of one Prometheus histogram, by upper bound in seconds. */
export type Buckets = Map<number, number>

/** Reads histogram `name` from Prometheus text. */
export const histogramBuckets = (text: string, name: string): Buckets => {
  const out: Buckets = new Map()
  const re = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\d+(?:\\.\\d+)?)`, 'gm')
  for (const m of text.matchAll(re)) {
    const le = m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1])
    out.set(le, (out.get(le) ?? 0) + Number(m[2]))
  }
  return out
}

/** The observations between two readings, as cumulative buckets. */
export const bucketsDelta = (after: Buckets, before: Buckets): Buckets =>
  new Map([...after].map(([le, n]) => [le, n - (before.get(le) ?? 0)]))

/** The bucket bound (ms) under which a share `q` of the observations fell; NaN with none. */
export const bucketQuantileMs = (buckets: Buckets, q: number): number => {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0])
  const total = sorted[sorted.length - 1]?.[1] ?? 0
  if (total === 0) return Number.NaN
  for (const [le, n] of sorted) if (n >= q * total) return le * 1000
  return Number.POSITIVE_INFINITY
}

/** A histogram's observations between two readings: their exact mean, and quantile bounds (see bucketQuantileMs), ms. */
export interface BucketQuantiles {
  mean: number
  p50: number
  p99: number
}

/** The sum of the samples of `metric` (e.g. a histogram's `name_sum`) in Prometheus text. */
const sampleSum = (text: string, metric: string): number => {
  let sum = 0
  for (const m of text.matchAll(new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)`, 'gm'))) sum += Number(m[1])
  return sum
}

/** Histogram `name` observed between the Prometheus texts `before` and `after`. */
export const histogramQuantilesBetween = (before: string, after: string, name: string): BucketQuantiles => {
  const delta = bucketsDelta(histogramBuckets(after, name), histogramBuckets(before, name))
  const count = sampleSum(after, `${name}_count`) - sampleSum(before, `${name}_count`)
  const seconds = sampleSum(after, `${name}_sum`) - sampleSum(before, `${name}_sum`)
  return {
    mean: count > 0 ? (1000 * seconds) / count : Number.NaN,
    p50: bucketQuantileMs(delta, 0.5),
    p99: bucketQuantileMs(delta, 0.99),
  }
}

/**
 * The options without the keys set to `undefined`, so that spreading them over defaults
 * (`{ ...DEFAULTS, ...definedOnly(options) }`) keeps the default for each of those keys.
 */
export const definedOnly = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>

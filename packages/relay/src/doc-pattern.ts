/**
 * Document name patterns in tokens: `*` matches any run of characters but `/`, `**`
 * matches any run including `/`, everything else matches itself.
 *   'team-a/*'  → team-a/notes, not team-a/x/y      '**' → every document
 */
export const compileDocPattern = (pattern: string): RegExp => {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*'
      i++
    } else if (c === '*') {
      source += '[^/]*'
    } else {
      source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    }
  }
  return new RegExp(`^${source}$`, 's')
}

/** True when `doc` matches one of `patterns`. */
export const matchesAny = (patterns: RegExp[], doc: string): boolean => patterns.some((p) => p.test(doc))

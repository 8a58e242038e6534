import { formatDefault, RELAY_OPTION_SPEC } from './option-spec.js'

/** The markers around the generated option table in packages/relay/README.md. */
export const OPTION_TABLE_BEGIN = '<!-- relay options: generated from src/option-spec.ts, do not edit by hand -->'
export const OPTION_TABLE_END = '<!-- end of relay options -->'

const cell = (s: string) => s.replaceAll('|', '\\|')

/** The README table of `converge relay`'s options, from the option spec. */
export const renderOptionTable = (): string => {
  const rows = RELAY_OPTION_SPEC.map((spec) => {
    const flag = `\`${spec.flag}\`${spec.repeatable ? ' (repeatable)' : ''}`
    const env = `\`${spec.env}\`${spec.repeatable ? ' (comma-separated)' : ''}`
    return `| ${flag} | ${env} | \`${spec.key}\` | ${cell(formatDefault(spec))} | ${cell(spec.doc)} |`
  })
  return ['| flag | env | config key | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n')
}

/** `readme` with the text between the markers replaced by the rendered table. */
export const withOptionTable = (readme: string): string => {
  const begin = readme.indexOf(OPTION_TABLE_BEGIN)
  const end = readme.indexOf(OPTION_TABLE_END)
  if (begin < 0 || end < begin) throw new Error('the README has no option table markers')
  return `${readme.slice(0, begin + OPTION_TABLE_BEGIN.length)}\n${renderOptionTable()}\n${readme.slice(end)}`
}

import { oneOf } from './option-parsers.js'
import { LOG_FORMATS, LOG_LEVELS, type OptionSpec, option } from './option-spec-types.js'

/** How `converge relay` logs. */
export const LOGGING_OPTION_SPEC: readonly OptionSpec[] = [
  option({
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'CONVERGE_LOG_LEVEL',
    default: 'info',
    parse: oneOf(LOG_LEVELS),
    doc: `log level: ${LOG_LEVELS.join(', ')} (connects and disconnects are debug)`,
  }),
  option({
    key: 'logFormat',
    flag: '--log-format <format>',
    env: 'CONVERGE_LOG_FORMAT',
    default: 'auto',
    parse: oneOf(LOG_FORMATS),
    doc: 'pretty (for people), json (one pino JSON line per event), or auto: pretty when stdout is a terminal',
  }),
]

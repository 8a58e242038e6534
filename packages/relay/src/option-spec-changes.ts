import { CHANGE_FEED_DEFAULTS } from './change-feed.js'
import { DEFAULT_CHANGE_KEEP_ALIVE } from './changes-api.js'
import { SETTLE_DEFAULTS } from './document-settled.js'
import { bool, nonNegativeInt } from './option-parsers.js'
import { type OptionSpec, option } from './option-spec-types.js'

/** The change feed (retention, keep-alives) and when a document counts as settled. */
export const CHANGE_OPTION_SPEC: readonly OptionSpec[] = [
  option({
    key: 'changeFeed',
    flag: '--change-feed <on|off>',
    env: 'CONVERGE_CHANGE_FEED',
    default: true,
    parse: bool,
    doc: 'keep a change feed: a sequence number per durable update, at GET /api/changes',
  }),
  option({
    key: 'changeRetentionMs',
    flag: '--change-retention <ms>',
    env: 'CONVERGE_CHANGE_RETENTION',
    default: CHANGE_FEED_DEFAULTS.changeRetentionMs,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'keep change feed records this long (older cursors get 410)',
  }),
  option({
    key: 'changeRetentionBytes',
    flag: '--change-retention-bytes <n>',
    env: 'CONVERGE_CHANGE_RETENTION_BYTES',
    default: CHANGE_FEED_DEFAULTS.changeRetentionBytes,
    unit: 'bytes',
    parse: nonNegativeInt,
    doc: 'keep at most this many bytes of change feed records',
  }),
  option({
    key: 'changeTrimInterval',
    flag: '--change-trim-interval <ms>',
    env: 'CONVERGE_CHANGE_TRIM_INTERVAL',
    default: CHANGE_FEED_DEFAULTS.changeTrimInterval,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'how often the change feed retention runs',
  }),
  option({
    key: 'changeKeepAlive',
    flag: '--change-keep-alive <ms>',
    env: 'CONVERGE_CHANGE_KEEP_ALIVE',
    default: DEFAULT_CHANGE_KEEP_ALIVE,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'keep-alive interval of an idle change stream',
  }),
  option({
    key: 'settleDelay',
    flag: '--settle-delay <ms>',
    env: 'CONVERGE_SETTLE_DELAY',
    default: SETTLE_DEFAULTS.settleDelay,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'a document is settled after this long without a change (onDocumentSettled, change-settled webhooks)',
  }),
  option({
    key: 'settleMaxWait',
    flag: '--settle-max-wait <ms>',
    env: 'CONVERGE_SETTLE_MAX_WAIT',
    default: SETTLE_DEFAULTS.settleMaxWait,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: '... or this long after its first unsettled change, however busy it is',
  }),
]

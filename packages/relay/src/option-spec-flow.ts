import { DEFAULT_FLOW_OPTIONS } from '@converge/core'
import { nonNegativeInt } from './option-parsers.js'
import { type ConfigKey, type OptionSpec, option } from './option-spec-types.js'

/** The flow-control budgets (core's FlowOptions, see PROTOCOL.md "Flow control"), for accepted and dialed links. */
export const FLOW_OPTION_SPEC: readonly OptionSpec[] = flowOptionSpecs()

function flowOptionSpecs(): OptionSpec[] {
  const flow = (
    key: ConfigKey & keyof typeof DEFAULT_FLOW_OPTIONS,
    flag: string,
    unit: 'bytes' | undefined,
    doc: string,
  ): OptionSpec =>
    option({
      key,
      flag: `--${flag} <n>`,
      env: `CONVERGE_${flag.toUpperCase().replaceAll('-', '_')}`,
      default: DEFAULT_FLOW_OPTIONS[key],
      unit,
      parse: nonNegativeInt,
      peer: { option: key, dial: true },
      doc,
    })
  return [
    flow(
      'maxInFlightBytes',
      'max-in-flight-bytes',
      'bytes',
      'received work in flight (not yet durable and forwarded) per connection; past it the socket is paused, not closed',
    ),
    flow(
      'maxInFlightMessages',
      'max-in-flight-messages',
      undefined,
      'received messages in flight per connection (paused past it)',
    ),
    flow(
      'maxDocInFlightBytes',
      'max-doc-in-flight-bytes',
      'bytes',
      'received work in flight per document, all connections together (its senders paused past it)',
    ),
    flow(
      'maxDocInFlightMessages',
      'max-doc-in-flight-messages',
      undefined,
      'received messages in flight per document, all connections together',
    ),
    flow(
      'inFlightCeiling',
      'in-flight-ceiling',
      undefined,
      'hard ceiling, × the connection budgets: a client connection past it is closed (1013)',
    ),
    flow(
      'slowReaderBytes',
      'slow-reader-bytes',
      'bytes',
      'queue on a socket past which its reader gets one diff per document when it drains, instead of every update',
    ),
    flow('maxBufferedBytes', 'max-buffered-bytes', 'bytes', 'queue on a socket past which it is closed (1013)'),
    flow(
      'maxSyncChunkBytes',
      'max-sync-chunk-bytes',
      'bytes',
      'largest sync answer in one message; a larger diff goes in parts',
    ),
  ]
}

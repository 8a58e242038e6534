import { nonNegativeInt, text } from './option-parsers.js'
import { type OptionSpec, option } from './option-spec-types.js'
import { WEBHOOK_DEFAULTS } from './webhook-queue.js'
import { webhookSpecs } from './webhooks.js'

/** Webhook targets and their delivery (attempts, retries, timeouts, concurrency). */
export const WEBHOOK_OPTION_SPEC: readonly OptionSpec[] = [
  option({
    key: 'webhooks',
    flag: '--webhook <spec>',
    env: 'CONVERGE_WEBHOOKS',
    defaultText: 'none',
    parse: webhookSpecs,
    repeatable: true,
    doc: 'POST document events to URL[;events=change-settled+document-created+document-deleted][;docs=GLOB][;include=json+delta]',
  }),
  option({
    key: 'webhookSecret',
    flag: '--webhook-secret <secret>',
    env: 'CONVERGE_WEBHOOK_SECRET',
    defaultText: 'none (unsigned)',
    parse: text,
    secret: true,
    doc: 'sign webhook deliveries: x-converge-signature, HMAC-SHA256 over timestamp.body',
  }),
  option({
    key: 'webhookMaxAttempts',
    flag: '--webhook-max-attempts <n>',
    env: 'CONVERGE_WEBHOOK_MAX_ATTEMPTS',
    default: WEBHOOK_DEFAULTS.webhookMaxAttempts,
    parse: nonNegativeInt,
    doc: 'attempts before a webhook delivery is dead-lettered (GET /api/webhooks/dead)',
  }),
  option({
    key: 'webhookRetryDelay',
    flag: '--webhook-retry-delay <ms>',
    env: 'CONVERGE_WEBHOOK_RETRY_DELAY',
    default: WEBHOOK_DEFAULTS.webhookRetryDelay,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'first webhook retry delay, doubled per attempt with jitter',
  }),
  option({
    key: 'webhookMaxRetryDelay',
    flag: '--webhook-max-retry-delay <ms>',
    env: 'CONVERGE_WEBHOOK_MAX_RETRY_DELAY',
    default: WEBHOOK_DEFAULTS.webhookMaxRetryDelay,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'longest delay between two webhook attempts',
  }),
  option({
    key: 'webhookTimeout',
    flag: '--webhook-timeout <ms>',
    env: 'CONVERGE_WEBHOOK_TIMEOUT',
    default: WEBHOOK_DEFAULTS.webhookTimeout,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'a webhook attempt without a response after this long fails',
  }),
  option({
    key: 'webhookConcurrency',
    flag: '--webhook-concurrency <n>',
    env: 'CONVERGE_WEBHOOK_CONCURRENCY',
    default: WEBHOOK_DEFAULTS.webhookConcurrency,
    parse: nonNegativeInt,
    doc: 'webhook deliveries in flight at once',
  }),
]

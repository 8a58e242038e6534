export { ADMIN_CONTEXT, AdminApi, type AdminRoute } from './admin-api.js'
export { adminApiSource, type BackupSource, restoreBackup, writeBackup } from './backup.js'
export { type BackupEntry, decodeBackup } from './backup-file.js'
export {
  CHANGE_FEED_DEFAULTS,
  ChangeFeed,
  type ChangeFeedOptions,
  type ChangeRecord,
  ChangesGoneError,
  type ChangesQuery,
  toRecord,
} from './change-feed.js'
export { main, program } from './cli.js'
export { docToJson } from './doc-json.js'
export { compileDocPattern } from './doc-pattern.js'
export { SETTLE_DEFAULTS, type SettleOptions } from './document-settled.js'
export type {
  AuthenticatePayload,
  AuthenticateResult,
  AwarenessPayload,
  ChangePayload,
  DisconnectPayload,
  DocumentSettledPayload,
  Extension,
  HookContext,
  HookName,
  ListenPayload,
  LoadDocumentPayload,
  StatelessPayload,
  UnloadDocumentPayload,
  UpgradePayload,
} from './extensions.js'
export { HookError, VETO } from './extensions.js'
export { type OptionSpec, RELAY_OPTION_SPEC, type RelayConfig } from './option-spec.js'
export { type OriginPolicyOptions, originPolicy } from './origin-policy.js'
export { redactUrl } from './redact.js'
export { Relay, type RelayOptions } from './relay.js'
export { parseCookies } from './relay-auth.js'
export { RelayMetrics } from './relay-metrics.js'
export { type Revocation, RevocationList } from './revocations.js'
export { SEED_VERSION, seedClientId } from './seed-doc.js'
export { ServerDocument } from './server-doc.js'
export {
  accessOf,
  MIN_SECRET_BYTES,
  signToken,
  type TokenClaims,
  type TokenKeys,
  type VerifiedClaims,
  verifyToken,
} from './tokens.js'
export type { Delivery, DeliveryStore } from './webhook-deliveries.js'
export { retryDelay, WEBHOOK_DEFAULTS, type WebhookQueueOptions } from './webhook-queue.js'
export { signWebhook, verifyWebhook } from './webhook-signature.js'
export {
  parseWebhookSpec,
  WEBHOOK_EVENTS,
  type WebhookEvent,
  type WebhookPayload,
  Webhooks,
  type WebhookTarget,
} from './webhooks.js'

export { WebhookDispatcher, backoffMs, sessionClosedData, type WebhookOptions, type WebhookLog, type WebhookChanges } from './dispatcher.js';
export { WEBHOOK_EVENT_TYPES, WebhookLeaseLostError, type WebhookConfig, type WebhookEventType, type WebhookOutbox, type OutboxEvent, type OutboxEntry } from './outbox.js';
export { PENDING_DEFAULTS, type PendingLimits } from './pending.js';
export { SIGNATURE_HEADER, signatureHeader, verifySignature, assertSignature, WebhookSignatureError } from './signature.js';

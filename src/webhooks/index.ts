export { WebhookDispatcher, backoffMs, sessionClosedData, type WebhookOptions, type WebhookLog } from './dispatcher.js';
export { WEBHOOK_EVENT_TYPES, type WebhookConfig, type WebhookEventType, type WebhookOutbox, type OutboxEvent, type OutboxEntry } from './outbox.js';
export { SIGNATURE_HEADER, signatureHeader, verifySignature, assertSignature, WebhookSignatureError } from './signature.js';

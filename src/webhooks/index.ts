export { WebhookDispatcher, backoffMs, sessionClosedData, type WebhookOptions, type WebhookLog } from './dispatcher.js';
export { WEBHOOK_EVENT_TYPES, type WebhookConfig, type WebhookEventType } from './outbox.js';
export { SIGNATURE_HEADER, signatureHeader, verifySignature } from './signature.js';

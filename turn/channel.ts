import type { Permission, PortChannel } from './permission.js';

/** RFC 8656 §12: a channel binding lasts 600 s unless refreshed. */
export const CHANNEL_LIFETIME_MS = 600_000;
/** RFC 8656 §12: after a binding expires, neither its number nor its peer may be rebound elsewhere for 5 min. */
export const CHANNEL_COOLDOWN_MS = 300_000;

/** A channel binding: number ↔ peer transport address, within one allocation. */
export class Channel implements PortChannel {
  readonly number: number;
  readonly permission: Permission;
  readonly port: number;
  expiresAt: number;

  constructor(number: number, permission: Permission, port: number, expiresAt: number) {
    this.number = number;
    this.permission = permission;
    this.port = port;
    this.expiresAt = expiresAt;
  }

  get address(): string {
    return this.permission.address;
  }
}

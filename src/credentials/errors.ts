/**
 * Errors of credential issuing; routes map `no_secret` → 503 (no `auth_secrets` configured) and
 * `invalid` → 400. Messages never contain secrets.
 */
export type CredentialErrorCode = 'no_secret' | 'invalid';

export class CredentialError extends Error {
  readonly code: CredentialErrorCode;
  constructor(code: CredentialErrorCode, message: string) {
    super(message);
    this.name = 'CredentialError';
    this.code = code;
  }
}

/** Errors of the accounts module; routes map `invalid` → 400 and `not_found` → 404. */
export type AccountErrorCode = 'invalid' | 'not_found';

export class AccountError extends Error {
  readonly code: AccountErrorCode;
  constructor(code: AccountErrorCode, message: string) {
    super(message);
    this.name = 'AccountError';
    this.code = code;
  }
}

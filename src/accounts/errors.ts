/**
 * Errors of the accounts module (absence is a value, not an error): 'invalid' input (routes answer
 * 400) and 'conflict', a name another live account has (409).
 */
export type AccountErrorCode = 'invalid' | 'conflict';

export class AccountError extends Error {
  readonly code: AccountErrorCode;
  constructor(code: AccountErrorCode, message: string) {
    super(message);
    this.name = 'AccountError';
    this.code = code;
  }
}

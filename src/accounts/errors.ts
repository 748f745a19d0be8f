/** Errors of the accounts module (invalid input; absence is a value, not an error); routes map them to 400. */
export type AccountErrorCode = 'invalid';

export class AccountError extends Error {
  readonly code: AccountErrorCode;
  constructor(code: AccountErrorCode, message: string) {
    super(message);
    this.name = 'AccountError';
    this.code = code;
  }
}

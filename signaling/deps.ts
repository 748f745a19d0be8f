/** What the signaling HTTP app is built from; passed in by the composition root (src/main.ts). */
import type { Logger } from 'pino';
import type { AccountService } from '../src/accounts/service.js';
import type { IceServerIssuer } from '../src/credentials/ice-servers.js';
import type { SignalTokens } from '../src/credentials/signal-token.js';

export interface SignalingDeps {
  readonly accounts: AccountService;
  readonly iceServers: IceServerIssuer;
  readonly tokens: SignalTokens;
  /** Bearer token of the admin API; undefined: the admin API answers 503. */
  readonly adminToken?: string;
  /** Where request and error logs go; silent when absent. */
  readonly log?: Logger;
  /** Live relay sessions (TurnServer.sessions), for operators; not exposed over HTTP yet. */
  readonly relaySessions?: () => unknown;
}

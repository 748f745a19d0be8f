import type { AllocationGate, AuthHandler, IpFamily, PeerPolicy, TransportName } from '../interfaces.js';
import type { EngineLogger, Quotas } from '../options.js';
import type { Allocation } from '../allocation.js';
import type { AllocationManager } from '../allocation-manager.js';
import type { ClientLink } from '../client-link.js';
import type { NonceManager } from '../nonce.js';
import type { RequestRateLimits } from '../rate-limit.js';
import type { RelayBinder } from '../relay-binder.js';
import type { StunMessage } from '../codec/message.js';

/** Everything request handling needs, injected; no sockets beyond the binder interface. */
export interface HandlerEnv {
  realm: string;
  auth: AuthHandler;
  peerPolicy: PeerPolicy;
  quotas: Quotas;
  readonly gate?: AllocationGate;
  readonly log?: EngineLogger;
  readonly nonces: NonceManager;
  /** Budgets of unauthenticated work per source IP (challenges, failed authentications). */
  readonly rateLimits: RequestRateLimits;
  readonly allocations: AllocationManager;
  readonly binder: RelayBinder;
  readonly defaultLifetimeMs: number;
  readonly maxLifetimeMs: number;
  /** Relay families this server can offer (for 440). */
  readonly families: { readonly v4: boolean; readonly v6: boolean };
}

/** Where a request came from: the client side of the 5-tuple. */
export interface ClientEndpoint {
  readonly transport: TransportName;
  readonly address: string;
  readonly port: number;
  readonly family: IpFamily;
  /** True when the native data plane serves this client: its relayed sockets are bound natively. */
  readonly nativeRelay?: boolean;
  /** The allocation on this 5-tuple, if any. */
  allocation(): Allocation | undefined;
  /** The link an allocation on this 5-tuple sends through. */
  createLink(): ClientLink;
  /** Records the new allocation on this 5-tuple (its link's detach() forgets it). */
  setAllocation(alloc: Allocation): void;
  /** Sends a response to this client. */
  reply(message: Buffer): void;
}

export interface RequestContext {
  readonly env: HandlerEnv;
  readonly client: ClientEndpoint;
  readonly req: StunMessage;
  readonly now: number;
}

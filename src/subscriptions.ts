/**
 * Subscriptions of the domain services (AccountService.subscribeRelay and onAccessRevoked,
 * UsageAggregator.addSessions and onFlushed, UsageLimiter.onHardLimit): each returns a function
 * that ends it, which the subscriber calls when it stops, so a stopped relay or signaling app is
 * neither called nor kept alive by a service that outlives it.
 */

/** Removes the first `item` from `list` (nothing when it is not there: ending twice is harmless). */
export function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

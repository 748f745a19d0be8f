/** Usage as the API answers it: the ledger plus what the aggregator has not written yet. */
import type { UsageAggregator } from './aggregator.js';
import { addCounters, copyCounters, DAY_MS, dayOf, HOUR_MS, type UsageFilter, type UsageRow, type UsageStore } from './types.js';

export interface UsageQuery {
  usage(filter: UsageFilter): Promise<UsageRow[]>;
}

export function liveUsage(store: UsageStore, aggregator: Pick<UsageAggregator, 'pending'> | undefined): UsageQuery {
  return {
    async usage(filter) {
      const pending = aggregator?.pending();
      const rows = await store.usage(filter);
      if (pending === undefined) return rows;
      const start = filter.granularity === 'hour' ? pending.hour : filter.granularity === 'day' ? dayOf(pending.hour) : pending.timeframeStart;
      const end = filter.granularity === 'hour' ? start + HOUR_MS : filter.granularity === 'day' ? start + DAY_MS : pending.timeframeEnd;
      if ((filter.from !== undefined && start < filter.from) || (filter.to !== undefined && start >= filter.to)) return rows;
      const out = rows.map((r) => ({ ...r }));
      // The rows of the pending bucket, by account (the first one, as a search from the front finds).
      const inBucket = new Map<string, UsageRow>();
      for (const r of out) if (r.start === start && !inBucket.has(r.account)) inBucket.set(r.account, r);
      for (const d of pending.deltas) {
        if (filter.account !== undefined && d.account !== filter.account) continue;
        const row = inBucket.get(d.account);
        if (row) addCounters(row, d);
        else {
          const added = { account: d.account, start, end, ...copyCounters(d) };
          out.push(added);
          inBucket.set(d.account, added);
        }
      }
      return out.sort((a, b) => a.start - b.start || (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
    },
  };
}

/** Usage as the API answers it: the ledger plus what the aggregator has not written yet. */
import type { UsageAggregator } from './aggregator.js';
import { addCounters, dayOf, type UsageFilter, type UsageRow, type UsageStore } from './types.js';

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
      if ((filter.from !== undefined && start < filter.from) || (filter.to !== undefined && start >= filter.to)) return rows;
      const out = rows.map((r) => ({ ...r }));
      for (const d of pending.deltas) {
        if (filter.account !== undefined && d.account !== filter.account) continue;
        const row = out.find((r) => r.account === d.account && r.start === start);
        if (row) addCounters(row, d);
        else out.push({ account: d.account, start, bytesToPeer: d.bytesToPeer, bytesToClient: d.bytesToClient, packetsToPeer: d.packetsToPeer, packetsToClient: d.packetsToClient });
      }
      return out.sort((a, b) => a.start - b.start || (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
    },
  };
}

/**
 * Which path a connection took, from getStats(): the selected candidate pair's local and remote
 * candidates; 'relay' when either is a relay candidate.
 *
 * Implementations differ in how they mark the selected pair: browsers (and node-datachannel's
 * polyfill) give the transport's `selectedCandidatePairId`; Firefox marks the pair `selected`;
 * werift gives neither, but lists nominated pairs (succeeded when in use).
 */
import type { CallPath } from './types.js';

type Stat = Record<string, unknown>;

/** The stats of a report: an RTCStatsReport / Map (values) or a plain array (older werift). */
export function statsList(report: unknown): Stat[] {
  const out: Stat[] = [];
  if (Array.isArray(report)) {
    for (const s of report) if (typeof s === 'object' && s !== null) out.push(s as Stat);
    return out;
  }
  const r = report as { forEach?: (cb: (value: unknown) => void) => void } | null;
  if (r && typeof r.forEach === 'function') {
    r.forEach((s) => { if (typeof s === 'object' && s !== null) out.push(s as Stat); });
  }
  return out;
}

export interface SelectedPair {
  readonly pair: Stat;
  readonly local: Stat;
  readonly remote: Stat;
}

export function selectedPair(report: unknown): SelectedPair | null {
  const stats = statsList(report);
  const byId = new Map<string, Stat>();
  for (const s of stats) if (typeof s.id === 'string') byId.set(s.id, s);
  const pairs = stats.filter((s) => s.type === 'candidate-pair');
  let pair: Stat | undefined;
  for (const s of stats) {
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
      pair = byId.get(s.selectedCandidatePairId);
      if (pair) break;
    }
  }
  pair ??= pairs.find((p) => p.selected === true);
  pair ??= pairs.find((p) => p.nominated === true && p.state === 'succeeded');
  if (!pair) return null;
  const local = byId.get(String(pair.localCandidateId));
  const remote = byId.get(String(pair.remoteCandidateId));
  if (!local || !remote) return null;
  return { pair, local, remote };
}

/** 'relay' if either end of the selected pair is a relay candidate; null when nothing is selected yet. */
export function pathFromStats(report: unknown): CallPath | null {
  const sel = selectedPair(report);
  if (!sel) return null;
  return sel.local.candidateType === 'relay' || sel.remote.candidateType === 'relay' ? 'relay' : 'direct';
}

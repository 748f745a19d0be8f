// libdatachannel throws on a remote candidate that arrives before the remote description, and
// node-datachannel's description and candidate callbacks may fire in either order (thrown inside a
// native callback, the error aborts the process: seen once in 30 runs of the interop test). A gate
// holds a peer's incoming candidates until its remote description is set.
import type { DescriptionType, PeerConnection } from 'node-datachannel';

export interface CandidateGate {
  description(sdp: string, type: DescriptionType): void;
  candidate(candidate: string, mid: string): void;
}

export function candidateGate(pc: Pick<PeerConnection, 'setRemoteDescription' | 'addRemoteCandidate'>): CandidateGate {
  let described = false;
  const early: Array<[string, string]> = [];
  return {
    description(sdp, type) {
      pc.setRemoteDescription(sdp, type);
      described = true;
      for (const [c, mid] of early.splice(0)) pc.addRemoteCandidate(c, mid);
    },
    candidate(c, mid) {
      if (described) pc.addRemoteCandidate(c, mid);
      else early.push([c, mid]);
    },
  };
}

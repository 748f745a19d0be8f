// Which data plane a test's TURN server runs: FERRY_TEST_DATA_PLANE=native|js (default js for
// in-process engines, whose tests were written against it; scripts/test-runtimes.js runs the
// protocol, interop and metering files once per plane). 'native' needs the addon built.
import { loadNativeAddon, type NativeAddon } from '../../turn/native/addon.js';

export type DataPlaneName = 'native' | 'js';

export function testDataPlane(): DataPlaneName {
  const v = process.env.FERRY_TEST_DATA_PLANE;
  if (v === undefined || v === '' || v === 'js') return 'js';
  if (v === 'native') return 'native';
  throw new Error(`FERRY_TEST_DATA_PLANE must be native or js, not ${JSON.stringify(v)}`);
}

/** The addon, or a failure that says why (a test asking for the native plane must not pass on the other). */
export function requireNativeAddon(): NativeAddon {
  const r = loadNativeAddon();
  if (!r.ok) throw new Error(`the native data plane is not available: ${r.reason}`);
  return r.addon;
}

/** TurnServerOptions.dataPlane for `plane` (two threads: enough to show the per-thread tables). */
export function dataPlaneOption(plane: DataPlaneName = testDataPlane()): { dataPlane?: { addon: NativeAddon; threads: number } } {
  return plane === 'native' ? { dataPlane: { addon: requireNativeAddon(), threads: 2 } } : {};
}

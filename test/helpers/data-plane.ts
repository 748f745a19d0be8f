// Which data plane a test's relay runs: FERRY_TEST_DATA_PLANE=native|js (scripts/test-runtimes.js
// runs the suite with native, then the protocol, interop and metering files with js). Unset (a
// developer running a file by hand): native when the addon loads, as data_plane "auto" chooses.
// 'native' insists on the addon: a test asked for it must not pass on the other plane.
import { loadNativeAddon, type NativeAddon } from '../../turn/native/addon.js';

export type DataPlaneName = 'native' | 'js';

/** The plane FERRY_TEST_DATA_PLANE asks for; undefined when unset. */
export function requestedDataPlane(): DataPlaneName | undefined {
  const v = process.env.FERRY_TEST_DATA_PLANE;
  if (v === undefined || v === '') return undefined;
  if (v === 'native' || v === 'js') return v;
  throw new Error(`FERRY_TEST_DATA_PLANE must be native or js, not ${JSON.stringify(v)}`);
}

/** The plane tests run: as asked, else native when the addon loads. */
export function testDataPlane(): DataPlaneName {
  return requestedDataPlane() ?? (loadNativeAddon().ok ? 'native' : 'js');
}

/** The addon, or a failure that says why. */
export function requireNativeAddon(): NativeAddon {
  const r = loadNativeAddon();
  if (!r.ok) throw new Error(`the native data plane is not available: ${r.reason}`);
  return r.addon;
}

/** TurnServerOptions.dataPlane for `plane` (two threads: enough to exercise the per-thread tables). */
export function dataPlaneOption(plane: DataPlaneName = testDataPlane()): { dataPlane?: { addon: NativeAddon; threads: number } } {
  return plane === 'native' ? { dataPlane: { addon: requireNativeAddon(), threads: 2 } } : {};
}

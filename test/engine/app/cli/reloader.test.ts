// The running process's side of a reload (app/cli/reloader.ts) against a real Ferry in this
// process: a refused reload keeps secrets out of the log. A config file that is not valid JSON
// is reported with the line at fault quoted, and that line may be a secret's; the quote goes to
// the owner-only state file (for `ferry reload`), the log gets where and what only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Reloader, StateKeeper } from '../../../../app/cli/reloader.js';
import { readState, STATE_VERSION, type RuntimeState } from '../../../../app/cli/runtime-state.js';
import { captureLog } from '../../../helpers/log-capture.js';
import { startInProcessFerry, type InProcessFerry } from '../../../helpers/ferry-in-process.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const SECRET = 'TOPSECRET-admin-token-0123456789';

const initial = (): RuntimeState => ({
  version: STATE_VERSION,
  pid: process.pid,
  started_at: new Date().toISOString(),
  config: null,
  config_loaded_at: new Date().toISOString(),
  config_sha256: null,
  listeners: [],
  reloads_started: 0,
  reload: null,
});

describe('a refused reload', () => {
  let ferry: InProcessFerry;
  before(async () => {
    ferry = await startInProcessFerry();
  });
  after(async () => {
    await ferry.stop();
  });

  async function reload(text: string) {
    const dir = tempDir('ferry-reloader');
    const file = join(dir, 'config.json');
    writeFileSync(file, text);
    const log = captureLog('info');
    const stateFile = join(dir, 'ferry.state.json');
    const state = new StateKeeper(stateFile, { ...initial(), config: file }, log.logger);
    const reloader = new Reloader(file, ferry.handle, log.logger, state);
    reloader.request();
    await reloader.idle();
    return { log: JSON.stringify(log.lines), outcome: readState(stateFile)?.reload };
  }

  it('with invalid JSON on a secret\'s line: the quote in the state file, not in the log', async () => {
    const { log, outcome } = await reload(`{\n  "signaling": {\n    "admin_token": "${SECRET}" "x": 1\n  }\n}\n`);
    assert.equal(outcome?.outcome, 'refused');
    assert.match(outcome.problems[0], /invalid JSON at line 3, column \d+/);
    assert.ok(outcome.problems.some((l) => l.includes(SECRET)), 'ferry reload shows the line at fault');
    assert.match(log, /reload refused/);
    assert.match(log, /invalid JSON at line 3/);
    assert.ok(!log.includes(SECRET), `the secret is not logged: ${log}`);
  });

  it('with invalid keys: every key: problem line in the log too', async () => {
    const { log, outcome } = await reload(JSON.stringify({ signaling: { admin_token: SECRET }, quotas: { bogus: 1 } }));
    assert.equal(outcome?.outcome, 'refused');
    assert.ok(outcome.problems.length >= 1);
    for (const line of outcome.problems) assert.ok(log.includes(JSON.stringify(line).slice(1, -1)), `logged: ${line}`);
    assert.ok(!log.includes(SECRET));
  });
});

// The pid file is written afresh: never through a link planted at its path.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPid, writePid } from '../../../../app/cli/pid-file.js';
import { tempDir } from '../../../helpers/temp-dir.js';

describe('pid file', () => {
  it('replaces a link planted at its path instead of writing through it', () => {
    const dir = tempDir('ferry-pid');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const file = join(dir, 'ferry.pid');
    symlinkSync(victim, file);
    writePid(file, 4242);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.equal(lstatSync(file).isSymbolicLink(), false);
    assert.equal(readPid(file), 4242);
    writePid(file, 4343); // and again over its own file
    assert.equal(readPid(file), 4343);
  });
});

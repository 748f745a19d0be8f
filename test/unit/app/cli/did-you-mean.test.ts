// "did you mean" for mistyped commands: the config errors' edit-distance rule (suggestKey).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { unknownMessage, unknownWord } from '../../../../app/cli/did-you-mean.js';

const COMMANDS = ['init', 'start', 'stop', 'status', 'reload', 'accounts', 'sessions', 'credentials', 'usage', 'config'];

describe('did you mean', () => {
  it('suggests the closest known word when it is close enough', () => {
    assert.equal(unknownMessage('command', 'acounts', COMMANDS), 'unknown command "acounts" (did you mean "accounts"?)');
    assert.equal(unknownMessage('command', 'SESSION', COMMANDS), 'unknown command "SESSION" (did you mean "sessions"?)');
    assert.equal(unknownMessage('subcommand', 'dissable', ['create', 'list', 'enable', 'disable']), 'unknown subcommand "dissable" (did you mean "disable"?)');
  });

  it('says nothing more for a word far from every known one, and names a missing word', () => {
    assert.equal(unknownMessage('command', 'launch', COMMANDS), 'unknown command "launch"');
    assert.equal(unknownMessage('subcommand', undefined, COMMANDS), 'missing subcommand');
  });

  it('a typo with a suggestion gets the suggestion and the usage line, not a page of help', () => {
    const USAGE = 'Usage: ferry <command> [options]\n\nCommands:\n  init ...\n';
    let err = '';
    const io = { stdout: () => {}, stderr: (t: string) => (err += t) };
    assert.equal(unknownWord(io, 'command', 'acounts', COMMANDS, USAGE), 2);
    assert.equal(err, 'ferry: unknown command "acounts" (did you mean "accounts"?)\nUsage: ferry <command> [options]\n');
    err = '';
    assert.equal(unknownWord(io, 'command', 'launch', COMMANDS, USAGE), 2);
    assert.equal(err, `ferry: unknown command "launch"\n\n${USAGE}`);
  });
});

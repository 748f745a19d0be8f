// "did you mean" for mistyped commands: the config errors' edit-distance rule (suggestKey).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { unknownMessage } from '../../../../app/cli/did-you-mean.js';

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
});

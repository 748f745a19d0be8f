// README.md and docs/*.md against what they describe: the generated configuration table, the
// example configs, the peer policy's deny list, the `ferry` commands, the WebSocket's error and
// close codes, and every relative link and anchor.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { parseConfig } from '../../../src/config/load.js';
import { CLOSE, ERROR_CODES } from '../../../protocol/signaling.js';
import { DEFAULT_DENY_IPV4, DEFAULT_DENY_IPV6 } from '../../../turn/peer-policy.js';
import { anchors, links, readDoc, ROOT, section } from '../../helpers/markdown.js';

const README = readDoc('README.md');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);

function mustSection(text: string, title: string, where: string): string {
  const s = section(text, title);
  assert.ok(s !== undefined, `${where}: no section "${title}"`);
  return s;
}

/** The JSON blocks marked `<!-- example-config ... -->` in a file. */
function exampleConfigs(text: string): unknown[] {
  return [...text.matchAll(/<!-- example-config[^>]*-->\s*```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]) as unknown);
}

describe('docs', () => {
  it('docs/configuration.md has the configuration table generated from the schema', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'config-table.js'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('has valid example configs: a production one in README, a local test one in docs/configuration.md', () => {
    const [production] = exampleConfigs(README);
    assert.ok(production, 'README: no example config');
    const prod = parseConfig(production, 'README example').config;
    assert.ok(prod.auth_secrets.length > 0 && prod.signaling.admin_token !== undefined && prod.tls_address !== undefined);
    const [local] = exampleConfigs(readDoc('docs/configuration.md'));
    assert.ok(local, 'docs/configuration.md: no example config');
    const { config } = parseConfig(local, 'docs/configuration.md example');
    assert.ok(Object.keys(config.users).length > 0 && config.auth_secrets.length > 0);
  });

  it('docs/protocol.md lists every default-denied peer range', () => {
    const security = mustSection(readDoc('docs/protocol.md'), 'Security defaults', 'docs/protocol.md');
    for (const range of [...DEFAULT_DENY_IPV4, ...DEFAULT_DENY_IPV6]) assert.ok(security.includes(`\`${range}\``), range);
  });

  it('the README lists every command of `ferry --help` in its CLI table, and docs/operations.md too', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'ferry.js'), '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const block = /\nCommands:\n([\s\S]*?)\n\n/.exec(r.stdout);
    assert.ok(block, `no Commands: block in\n${r.stdout}`);
    // A command line starts with two spaces and the command's name; continuation lines are indented further.
    const commands = [...block[1].matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]);
    assert.ok(commands.includes('start') && commands.includes('accounts'), commands.join(' '));
    const cli = mustSection(README, 'CLI', 'README');
    const reference = mustSection(readDoc('docs/operations.md'), 'CLI reference', 'docs/operations.md');
    for (const c of commands) {
      assert.match(cli, new RegExp(`\\| \`ferry ${c}\\b`), `README "CLI" has no row for ferry ${c}`);
      assert.match(reference, new RegExp(`\\| \`ferry ${c}\\b`), `docs/operations.md "CLI reference" has no row for ferry ${c}`);
    }
  });

  it('the README and docs/protocol.md name every WebSocket error code and close code', () => {
    const readme = mustSection(README, 'WebSocket protocol', 'README');
    const protocol = mustSection(readDoc('docs/protocol.md'), 'Signaling WebSocket', 'docs/protocol.md');
    for (const code of ERROR_CODES) {
      assert.ok(readme.includes(`\`${code}\``), `README "WebSocket protocol": ${code}`);
      assert.ok(protocol.includes(`\`${code}\``), `docs/protocol.md: ${code}`);
    }
    for (const [name, code] of Object.entries(CLOSE)) {
      assert.ok(readme.includes(`\`${code}\``), `README "WebSocket protocol": close code ${code} (${name})`);
      assert.ok(protocol.includes(`| ${code} |`), `docs/protocol.md close codes table: ${code} (${name})`);
    }
  });

  it('every relative link of README.md and docs/*.md leads to a file, and every anchor to a heading', () => {
    const problems: string[] = [];
    for (const file of ['README.md', ...DOCS]) {
      const text = readDoc(file);
      for (const link of links(text)) {
        // Images are left out: the demo screenshots are written by the Chromium demo test.
        if (link.image || /^[a-z]+:/i.test(link.target)) continue;
        const [path, anchor] = link.target.split('#', 2) as [string, string | undefined];
        const target = path === '' ? file : normalize(join(dirname(file), path));
        if (!existsSync(join(ROOT, target))) {
          problems.push(`${file}: [${link.text}](${link.target}): no file ${target}`);
          continue;
        }
        if (anchor !== undefined && target.endsWith('.md') && !anchors(readDoc(target)).has(anchor)) {
          problems.push(`${file}: [${link.text}](${link.target}): no heading #${anchor} in ${target}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('the README links every page of docs/', () => {
    const targets = new Set(links(README).map((l) => l.target.split('#', 1)[0]));
    for (const page of DOCS) assert.ok(targets.has(page), `README does not link ${page}`);
  });
});

// The dependency direction of the house (README, "Architecture"), checked on every `npm test` by
// dependency-cruiser over the TypeScript sources (type-only imports count as imports):
//
//   app/ (composition root, CLI) → signaling/, src/, turn/ through its public entry only
//   signaling/ (HTTP + WebSocket)  → src/ domain (not its stores), protocol/
//   src/ (domain + stores)         → turn/ through its public entry only (its interfaces, and the
//                                    pure functions credentials share with it: deriveLongTermKey,
//                                    IpBuckets); domain modules do not import src/store/
//   client/ (SDK)                  → protocol/ (types only: see the rule)
//   console/ (operator console)    → uplot only (bundled for the browser; it talks to the server
//                                    over the documented admin API, not through our modules)
//   turn/, protocol/               → nothing of ours
//
// and no file cycles anywhere; only src/store/ imports the SQLite driver. Tests and benches may
// reach into any module. scripts/ and bin/ are plain JavaScript entry points: not cruised.
const ours = '^(turn|signaling|src|app|client|console|protocol|test|bench)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A file cycle: two modules that cannot be read, tested or replaced one without the other.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'turn-imports-nothing-of-ours',
      comment: 'turn/ is the protocol engine: it talks to the rest through its own interfaces.',
      severity: 'error',
      from: { path: '^turn/' },
      to: { path: ours, pathNot: '^turn/' },
    },
    {
      name: 'protocol-imports-nothing-of-ours',
      comment: 'protocol/ is the signaling wire format, shared by the server and the SDK.',
      severity: 'error',
      from: { path: '^protocol/' },
      to: { path: ours, pathNot: '^protocol/' },
    },
    {
      name: 'src-is-the-domain',
      comment: 'src/ (domain and stores) does not know the composition root, the HTTP app or the SDK.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(signaling|app|client|console|protocol|test|bench)/' },
    },
    {
      name: 'src-reaches-turn-through-its-entry',
      comment: 'The domain sees the engine only through turn/index.ts.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^turn/', pathNot: '^turn/index\\.ts$' },
    },
    {
      name: 'app-reaches-turn-through-its-entry',
      comment: 'The composition root builds the engine through turn/index.ts, like the domain.',
      severity: 'error',
      from: { path: '^app/' },
      to: { path: '^turn/', pathNot: '^turn/index\\.ts$' },
    },
    {
      name: 'signaling-imports-the-domain-only',
      comment: 'signaling/ is a fastify plugin over the domain; the root wires it to the engine.',
      severity: 'error',
      from: { path: '^signaling/' },
      to: { path: '^(turn|app|client|console|test|bench)/' },
    },
    {
      name: 'console-imports-nothing-of-ours',
      comment: 'The console is a browser page bundled with uPlot: it knows the server only through the admin API.',
      severity: 'error',
      from: { path: '^console/' },
      // (^|/): node_modules may be a symlink to another checkout's, resolved to its real path.
      to: { pathNot: '^console/|(^|/)node_modules/uplot/' },
    },
    {
      name: 'client-imports-the-protocol-only',
      comment:
        'The SDK runs in browsers as plain ES modules: nothing of the server, no packages, no Node built-ins. ' +
        'That it imports only types of protocol/ (erased when compiled) is checked on the compiled SDK by ' +
        'test/unit/client/parts.test.ts: swc does not tell type-only imports apart.',
      severity: 'error',
      from: { path: '^client/' },
      to: { pathNot: '^(client|protocol)/' },
    },
    {
      name: 'the-domain-does-not-know-its-stores',
      comment: 'Domain modules and the HTTP app see stores through their interfaces; the root picks the implementation.',
      severity: 'error',
      from: { path: '^(src|signaling)/', pathNot: '^src/store/' },
      to: { path: '^src/store/' },
    },
    {
      name: 'the-root-does-not-import-the-sdk',
      comment: 'client/ is shipped to browsers and apps; the server serves its compiled files, never imports them.',
      severity: 'error',
      from: { path: '^app/' },
      to: { path: '^client/' },
    },
    {
      name: 'only-the-stores-touch-the-database',
      comment: 'Accounts, usage and the webhook outbox are used through store interfaces; src/store/ implements them.',
      severity: 'error',
      from: { pathNot: '^(src/store|test|bench)/' },
      to: { path: '(^|/)node_modules/better-sqlite3/' },
    },
    {
      name: 'product-does-not-import-tests',
      severity: 'error',
      from: { path: '^(turn|signaling|src|app|client|protocol)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    // TypeScript 7 has no JavaScript API: swc parses the sources, type-only imports included.
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};

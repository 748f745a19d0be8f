// The dependency direction of the house (README, "Architecture"), checked on every `npm test` by
// dependency-cruiser over the TypeScript sources (type-only imports included):
//
//   app/ (composition root, CLI) → signaling/, src/, turn/
//   signaling/ (HTTP + WebSocket)  → src/ domain, protocol/
//   src/ (domain + stores)         → turn/ through its public entry only
//   client/ (SDK)                  → protocol/ (types only)
//   turn/, protocol/               → nothing of ours
//
// and no file cycles anywhere. Tests and benches may reach into any module.
const ours = '^(turn|signaling|src|app|client|protocol|test|bench)/';

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
      to: { path: '^(signaling|app|client|protocol|test|bench)/' },
    },
    {
      name: 'src-reaches-turn-through-its-entry',
      comment: 'The domain sees the engine only through turn/index.ts.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^turn/', pathNot: '^turn/index\\.ts$' },
    },
    {
      name: 'signaling-imports-the-domain-only',
      comment: 'signaling/ is a fastify plugin over the domain; the root wires it to the engine.',
      severity: 'error',
      from: { path: '^signaling/' },
      to: { path: '^(turn|app|client|test|bench)/' },
    },
    {
      name: 'client-imports-the-protocol-types-only',
      comment:
        'The SDK runs in browsers as plain ES modules: nothing of the server, no packages, only protocol/. ' +
        'That those imports are type-only (erased) is checked on the compiled SDK by test/unit/client/parts.test.ts: ' +
        'the swc parser does not tell `import type` from `import`.',
      severity: 'error',
      from: { path: '^client/' },
      to: { pathNot: '^(client|protocol)/' },
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

// The layers of src/ (see docs/architecture.md), held by `npm run lint`:
//
//   src/action/, src/cli/   front doors: the only code that may use a CI
//                           toolkit (@actions/*); they may import the core
//   src/credential/         the third front door, the credential helper a
//                           renewing kubeconfig runs: the core only, no
//                           toolkit (it runs inside kubectl, not a step)
//   src/core/               CI-agnostic; talks to its host through ports.ts
//     core/*.ts             leaves: errors, masking, ports, the run record
//     core/kube/            Kubernetes calls, transport, retries, errors
//       kube/bootstrap/     one file per bootstrap kind behind kind.ts's
//                           interface, registered in index.ts
//     core/token/, proof/   the domain: TokenRequest, per-run Secret,
//                           kubeconfig file, lifetime, the proof
//
// Inside the core the arrows point down: kube may not import token or
// proof (it defines the types they pass it), and nothing in the core may
// import a front door. No cycles anywhere.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: one of the modules is in the wrong layer.',
      from: { path: '^src/' },
      to: { circular: true }
    },
    {
      name: 'core-not-ci-toolkit',
      severity: 'error',
      comment:
        'The core runs under any CI: it reaches the runner only through src/core/ports.ts, never through @actions/*.',
      from: { path: '^src/core/' },
      to: { path: '(^|/)node_modules/@actions/' }
    },
    {
      name: 'toolkit-only-in-front-doors',
      severity: 'error',
      comment: 'Only src/action/ and src/cli/ may import @actions/*.',
      from: { path: '^src/', pathNot: '^src/(action|cli)/' },
      to: { path: '(^|/)node_modules/@actions/' }
    },
    {
      name: 'core-not-front-doors',
      severity: 'error',
      comment:
        'The core may not import a front door (src/action/, src/cli/, src/credential/): pass what it needs in.',
      from: { path: '^src/core/' },
      to: { path: '^src/(action|cli|credential)/' }
    },
    {
      name: 'front-doors-apart',
      severity: 'error',
      comment:
        'The action, the CLI and the credential helper share code only through the core: move what they need into src/core/.',
      from: { path: '^src/(action|cli|credential)/' },
      to: { path: '^src/(action|cli|credential)/', pathNot: '^src/$1/' }
    },
    {
      name: 'kube-not-domain',
      severity: 'error',
      comment:
        'core/kube/ is below the domain: it may not import core/token/ or core/proof/ (define the type in kube and let the domain use it).',
      from: { path: '^src/core/kube/' },
      to: { path: '^src/core/(token|proof)/' }
    },
    {
      name: 'bootstrap-kinds-apart',
      severity: 'error',
      comment:
        'A bootstrap kind is one file: it imports only the shared parts of core/kube/bootstrap/ (kind.ts, kubeconfig.ts, masking.ts, id-token.ts), never another kind or the registry; only index.ts imports the kinds.',
      from: {
        path: '^src/core/kube/bootstrap/',
        pathNot: '^src/core/kube/bootstrap/index\\.ts$'
      },
      to: {
        path: '^src/core/kube/bootstrap/',
        pathNot:
          '^src/core/kube/bootstrap/(kind|kubeconfig|masking|id-token)\\.ts$'
      }
    },
    {
      name: 'bootstrap-interface-a-leaf',
      severity: 'error',
      comment:
        'core/kube/bootstrap/kind.ts is the interface every kind and api-errors.ts share: it imports only the leaves and deadline.ts, or it would close a cycle.',
      from: { path: '^src/core/kube/bootstrap/kind\\.ts$' },
      to: {
        path: '^src/',
        pathNot:
          '^src/core/(errors|jwt-claims|masking|names|ports)\\.ts$|^src/core/kube/deadline\\.ts$'
      }
    },
    {
      name: 'leaves-import-nothing-above',
      severity: 'error',
      comment:
        'errors.ts, jwt-claims.ts, masking.ts, names.ts and ports.ts are the leaves of the core: they import only each other.',
      from: { path: '^src/core/(errors|jwt-claims|masking|names|ports)\\.ts$' },
      to: {
        path: '^src/',
        pathNot: '^src/core/(errors|jwt-claims|masking|names|ports)\\.ts$'
      }
    },
    {
      name: 'renewal-cache-hit-light',
      severity: 'error',
      comment:
        'The credential helper runs before every kubectl command: on a cache hit it may not load client-node or the Kubernetes layer. Only core/renewal/mint.ts (imported on demand) reaches them.',
      from: {
        path: '^src/(credential/|core/renewal/(?!mint\\.ts|setup\\.ts|report\\.ts))'
      },
      to: {
        path: '^src/core/(kube|token|proof)/|^src/core/renewal/mint\\.ts$|(^|/)node_modules/@kubernetes/',
        dependencyTypesNot: ['dynamic-import']
      }
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve to a file or a package.',
      from: {},
      to: { couldNotResolve: true }
    },
    {
      name: 'src-not-tests',
      severity: 'error',
      comment: 'Shipped code may not import tests, fixtures or scripts.',
      from: { path: '^src/' },
      to: { path: '^(__tests__|__fixtures__|scripts)/' }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.json']
    }
  }
}

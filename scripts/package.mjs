#!/usr/bin/env node
// `npm run package`: rebuild dist/ with esbuild, in one pass.
//
// esbuild bundles the entries (src/action/entry/main.ts for `runs.main`,
// src/action/entry/post.ts for `runs.post`, src/cli/main.ts for the CLI)
// into dist/ with tree shaking and code splitting: what both steps use is
// shared chunks, and `duration: auto`'s GitHub client is a chunk of its own
// that only main loads, on demand. It is told that @kubernetes/client-node
// and @actions/core have no import-time side effects (true, but their
// package.json files do not say so): otherwise client-node's barrel file
// pulls in every generated model and API group, and @actions/core its OIDC
// client with undici 6, whether used or not. ncc (webpack) cannot be told
// this, which is why its bundle was 5.6 MB. A second ncc pass over esbuild's
// output used to follow; it only renamed and re-minified the chunks
// (esbuild's output runs as it is: no assets, no native modules), and it can
// package one entry only, so it went with the single entry.
//
// The build is deterministic: the same sources give the same dist/.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DIST = path.join(ROOT, 'dist')

// Packages whose modules may be dropped when nothing from them is used.
// client-node's polyfill.js is the exception: it exists for its side effect.
const SIDE_EFFECT_FREE =
  /[\\/]node_modules[\\/](@kubernetes[\\/]client-node[\\/]dist[\\/](?!polyfill\.js)|@actions[\\/](core|http-client)[\\/]lib[\\/])/

/** Marks the modules above side-effect free, as a package.json `sideEffects: false` would. */
const sideEffectFree = {
  name: 'side-effect-free',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'side-effect-free') return undefined
      const inside = SIDE_EFFECT_FREE.test(args.importer)
      if (!inside && !/^@(kubernetes|actions)\//.test(args.path))
        return undefined
      const result = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'side-effect-free'
      })
      // Anything else (unresolvable optional requires too) resolves as usual.
      if (result.errors.length > 0 || !SIDE_EFFECT_FREE.test(result.path)) {
        return undefined
      }
      return {
        path: result.path,
        namespace: result.namespace,
        sideEffects: false
      }
    })
  }
}

// client-node imports undici 8 (Agent, ProxyAgent, fetch) at the top of its
// config and HTTP modules, and @actions/core's @actions/http-client imports
// undici 6 (ProxyAgent). Neither is used by the action: it sends to
// Kubernetes through node:https (src/core/kube/https-transport.ts), and
// core.getIDToken goes through node:https as well (http-client uses undici
// only for getAgentDispatcher, which core never calls). Parsing and running
// them cost ~0.15 s of CPU in every step, so they are left out, replaced by
// this stand-in that says so if anything ever reaches for them. Exporting
// only these three names makes the build fail if either package starts
// importing another. (@actions/github's own undici, which its Octokit uses,
// stays: it is loaded only for `duration: auto`.)
const UNDICI_STAND_IN = `
const absent = () =>
  new Error(
    'undici is left out of this bundle (scripts/package.mjs): the action ' +
      'sends through node:https, so this is a bug in ephemeral-scan-token'
  )
export class Agent {
  constructor() { throw absent() }
}
export class ProxyAgent {
  constructor() { throw absent() }
}
export function fetch() { return Promise.reject(absent()) }
`
// The top-level http-client only: @actions/github has its own, which uses
// undici for Octokit's requests.
const WITHOUT_UNDICI =
  /^node_modules[\\/](@kubernetes[\\/]client-node[\\/]dist|@actions[\\/]http-client[\\/]lib)[\\/]/

// node:http and node:https, taken with require() instead of an ES import.
// An ES import of a built-in makes Node build its module facade, which reads
// every export, and node:http's lazy ones then load Node's own undici (about
// 25 ms of each step); require() hands over the object and reads nothing.
// (ncc used to turn these imports into require() calls.)
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?https?$/ }, (args) =>
      args.namespace === 'builtin-require'
        ? undefined
        : {
            path: args.path.replace(/^node:/, ''),
            namespace: 'builtin-require'
          }
    )
    build.onLoad({ filter: /.*/, namespace: 'builtin-require' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)})`,
      loader: 'js'
    }))
  }
}

const withoutUndici = {
  name: 'without-undici',
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, (args) => {
      const importer = path.relative(ROOT, args.importer)
      if (!WITHOUT_UNDICI.test(importer)) return undefined
      return { path: 'undici', namespace: 'undici-stand-in' }
    })
    build.onLoad({ filter: /.*/, namespace: 'undici-stand-in' }, () => ({
      contents: UNDICI_STAND_IN,
      loader: 'js'
    }))
  }
}

// CommonJS modules that only a proxy needs: `tunnel` (@actions/http-client,
// behind core.getIDToken, for an HTTPS_PROXY) and `socks` with ip-address
// and smart-buffer (client-node, for a socks5:// proxy-url). Importing them
// runs them (and loads node:assert) in every step, ~10 ms of the post
// step's budget; these stand-ins run them on first use instead. Each
// stand-in exports only what its importers use, so a new use fails the
// build (named import) or warns (namespace import; warnings fail below).
const DEFERRED = {
  tunnel: {
    importers: /^node_modules[\\/]@actions[\\/]http-client[\\/]lib[\\/]/,
    // How an importer uses it: `tunnel.httpsOverHttp(...)`.
    uses: /\btunnel\.(\w+)/g,
    provides: [
      'httpOverHttp',
      'httpsOverHttp',
      'httpOverHttps',
      'httpsOverHttps'
    ],
    exports: (load) =>
      DEFERRED.tunnel.provides
        .map(
          (name) =>
            `export const ${name} = (options) => ${load}.${name}(options)`
        )
        .join('\n')
  },
  socks: {
    importers:
      /^node_modules[\\/](@kubernetes[\\/]client-node|socks-proxy-agent)[\\/]dist[\\/]/,
    // `SocksClient.createConnection(...)`, and nothing else from socks.
    uses: /\b(?:import\s*\{([^}]*)\}\s*from\s*'socks'|SocksClient\.(\w+))/g,
    provides: ['SocksClient', 'createConnection'],
    // createConnection is async, so socks (with ip-address and smart-buffer,
    // 70 kB) can wait in a chunk of its own: not even parsed without a proxy.
    exports: (_load, real) =>
      `export const SocksClient = {
  createConnection: async (...args) =>
    // A CommonJS module's chunk exports its module.exports as default.
    (await import(${JSON.stringify(real)})).default.SocksClient.createConnection(
      ...args
    )
}`
  }
}

/** Fails the build when `importer` uses a name the stand-in lacks. */
function checkUses(name, importer) {
  const { uses, provides } = DEFERRED[name]
  const source = fs.readFileSync(importer, 'utf8')
  for (const match of source.matchAll(uses)) {
    for (const used of match.slice(1).filter(Boolean).join(',').split(',')) {
      const trimmed = used.trim()
      if (trimmed && !provides.includes(trimmed)) {
        throw new Error(
          `${path.relative(ROOT, importer)} uses ${name}'s ${trimmed}, which the deferred stand-in in scripts/package.mjs does not provide`
        )
      }
    }
  }
}

const deferred = {
  name: 'deferred',
  setup(build) {
    build.onResolve({ filter: /^(tunnel|socks)$/ }, async (args) => {
      if (args.pluginData === 'deferred') return undefined
      const importer = path.relative(ROOT, args.importer)
      if (!DEFERRED[args.path].importers.test(importer)) return undefined
      checkUses(args.path, args.importer)
      const real = await build.resolve(args.path, {
        kind: 'require-call',
        resolveDir: args.resolveDir,
        pluginData: 'deferred'
      })
      if (real.errors.length > 0) return undefined
      // Paths relative to the repository, so that dist/ does not depend on
      // where it is built.
      return {
        path: path.relative(ROOT, real.path),
        namespace: 'deferred',
        pluginData: args.path
      }
    })
    build.onLoad({ filter: /.*/, namespace: 'deferred' }, (args) => {
      const real = `./${path.basename(args.path)}`
      return {
        contents: `let real\n${DEFERRED[args.pluginData].exports(
          `(real ??= require(${JSON.stringify(real)}))`,
          real
        )}\n`,
        resolveDir: path.join(ROOT, path.dirname(args.path)),
        loader: 'js'
      }
    })
  }
}

fs.rmSync(DIST, { recursive: true, force: true })

const result = await esbuild.build({
  absWorkingDir: ROOT,
  // Output names the runner starts: dist/main.js and dist/post.js; and
  // dist/cli.js for other CI systems (issue 19).
  entryPoints: {
    main: 'src/action/entry/main.ts',
    post: 'src/action/entry/post.ts',
    cli: 'src/cli/main.ts',
    // The credential helper a kubeconfig written with renew-every runs.
    credential: 'src/credential/entry.ts'
  },
  outdir: DIST,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  legalComments: 'none',
  // CommonJS dependencies (undici, tunnel) call require() for Node's own
  // modules; an ES module has to make one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
  },
  plugins: [builtinsByRequire, withoutUndici, deferred, sideEffectFree],
  metafile: true,
  logLevel: 'warning'
})
// A warning (e.g. an import a stand-in above does not provide) fails the build.
if (result.warnings.length > 0) {
  throw new Error(
    `package: esbuild warned ${result.warnings.length} time(s), see above`
  )
}
// @actions/github's Octokit fetches through its own http-client's undici.
// Were npm to dedupe that onto the top-level http-client, it would get the
// stand-in, and `duration: auto` behind a proxy would throw: refuse that.
for (const [input, { imports }] of Object.entries(result.metafile.inputs)) {
  if (!/^node_modules[\\/]@actions[\\/]github[\\/]lib[\\/]/.test(input))
    continue
  for (const { path: imported } of imports) {
    if (/^node_modules[\\/]@actions[\\/]http-client[\\/]/.test(imported)) {
      throw new Error(
        `package: ${input} uses the top-level @actions/http-client, whose undici is left out`
      )
    }
  }
}
// What each chunk holds, for https://esbuild.github.io/analyze/ or a script.
fs.mkdirSync(path.join(ROOT, '.build'), { recursive: true })
fs.writeFileSync(
  path.join(ROOT, '.build', 'meta.json'),
  JSON.stringify(result.metafile)
)
// Only @actions/github's undici may be in the bundle, and only in the
// chunk `duration: auto` loads.
for (const [name, output] of Object.entries(result.metafile.outputs)) {
  const inputs = Object.keys(output.inputs)
  const undici = inputs.filter((input) => /[\\/]undici[\\/]/.test(input))
  const github = inputs.some((input) => /@actions[\\/]github[\\/]/.test(input))
  if (undici.length > 0 && !github) {
    throw new Error(`package: ${name} bundles undici (${undici[0]})`)
  }
}
// The credential helper runs before every kubectl command of a renewing
// job: what it loads on a cache hit (its static imports, chunks included)
// must not hold client-node, which only the renewal chunk, imported on
// demand, may load.
{
  const outputs = result.metafile.outputs
  const seen = new Set()
  const queue = ['dist/credential.js']
  while (queue.length > 0) {
    const name = queue.pop()
    if (seen.has(name) || !outputs[name]) continue
    seen.add(name)
    for (const input of Object.keys(outputs[name].inputs)) {
      if (/@kubernetes[\\/]client-node/.test(input)) {
        throw new Error(
          `package: the credential helper's cache hit loads ${input} through ${name}`
        )
      }
    }
    for (const { path: next, kind } of outputs[name].imports) {
      if (kind === 'import-statement') queue.push(next)
    }
  }
}
// esbuild writes .js files as ES modules; Node needs to be told so.
fs.writeFileSync(path.join(DIST, 'package.json'), '{"type":"module"}\n')

#!/usr/bin/env node
// `npm run package`: rebuild dist/ in two passes.
//
// 1. esbuild bundles src/index.ts into .build/ with tree shaking and code
//    splitting (main, post and `duration: auto`'s GitHub client are separate
//    chunks). It is told that @kubernetes/client-node and @actions/core have
//    no import-time side effects (true, but their package.json files do not
//    say so): otherwise client-node's barrel file pulls in every generated
//    model and API group, and @actions/core its OIDC client with undici 6,
//    whether used or not. ncc (webpack) cannot be told this, which is why its
//    bundle was 5.6 MB.
// 2. ncc packages that output into dist/ as before (ESM, dist/package.json).
//
// Both passes are deterministic: the same sources give the same dist/.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BUILD = path.join(ROOT, '.build')
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
// Kubernetes through node:https (src/kube/https-transport.ts), and
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

fs.rmSync(BUILD, { recursive: true, force: true })
fs.rmSync(DIST, { recursive: true, force: true })

const result = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: ['src/index.ts'],
  outdir: BUILD,
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
  plugins: [withoutUndici, sideEffectFree],
  metafile: true,
  logLevel: 'warning'
})
// What each chunk holds, for https://esbuild.github.io/analyze/ or a script.
fs.writeFileSync(path.join(BUILD, 'meta.json'), JSON.stringify(result.metafile))
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
// esbuild writes .js files as ES modules; Node needs to be told so.
fs.writeFileSync(path.join(BUILD, 'package.json'), '{"type":"module"}\n')

const ncc = spawnSync(
  path.join(ROOT, 'node_modules', '.bin', 'ncc'),
  [
    'build',
    path.join(BUILD, 'index.js'),
    '-o',
    DIST,
    '-m',
    '--target',
    'es2022'
  ],
  { cwd: ROOT, stdio: 'inherit' }
)
if (ncc.status !== 0) process.exit(ncc.status ?? 1)

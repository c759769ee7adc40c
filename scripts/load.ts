// `npm run load`: N concurrent main+post runs of the bundled dist/main.js and dist/post.js
// against the local test cluster (loopback only), then figures: successes,
// retries (the debug lines the action prints per retry), p50/p95 of main and
// post, and the per-run Secrets left behind. Figures, not assertions.
//
//   npm run load                       40 runs at once
//   npm run load -- --runs 80          more (at most 200)
//   npm run load -- --faults 10        through the fault proxy, with 10 503s on
//                                      TokenRequests, 10 resets on Secret
//                                      creates and 10 429s (Retry-After: 1) on
//                                      access reviews spread over the runs
//
// Bounded: each main gives up within 90 s and each post within 60 s by
// design, and the whole load stops after 10 minutes whatever happens.
// Runs with Node 24's type stripping and reuses the e2e fixtures.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import {
  adminKubeConfig,
  anchorsIn,
  createScanSetup,
  deleteNamespace,
  REPO
} from '../__tests__/e2e/support/cluster.ts'
import { FaultProxy, PATHS } from '../__tests__/e2e/support/fault-proxy.ts'
import { FakeRunner, type StepResult } from '../__tests__/e2e/support/runner.ts'

const WHOLE_LOAD_MS = 10 * 60 * 1000
const MAX_RUNS = 200

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '40' },
    faults: { type: 'string', default: '0' }
  }
})
const runs = Math.min(MAX_RUNS, Math.max(1, Number(values.runs) || 40))
const faults = Math.max(0, Number(values.faults) || 0)

function cluster(command: 'up' | 'down'): void {
  const result = spawnSync(
    process.execPath,
    [path.join(REPO, 'scripts', 'cluster.mjs'), command],
    { stdio: 'inherit' }
  )
  if (result.status !== 0) throw new Error(`cluster ${command} failed`)
}

/** Nearest-rank percentile of `values` (seconds), e.g. p = 0.95. */
function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(
    sorted.length,
    Math.max(1, Math.ceil(p * sorted.length))
  )
  return sorted[rank - 1] ?? NaN
}

/** The action's retry lines (one per retry): `… failed (REASON); retrying in …`. */
function retryReasons(step: StepResult): string[] {
  return step.stdout
    .split('\n')
    .filter(
      (line) => line.startsWith('::debug::') && /; retrying in /.test(line)
    )
    .map((line) => /failed \((.*)\); retrying in/.exec(line)?.[1] ?? '?')
}

interface Outcome {
  mainOk: boolean
  postOk: boolean
  mainSeconds: number
  postSeconds: number
  retries: string[]
  error?: string
}

const alreadyRunning = fs.existsSync(path.join(REPO, '.cluster', 'pid'))
cluster('up')
const admin = adminKubeConfig()
const setup = await createScanSetup(admin)
const proxy = faults > 0 ? await FaultProxy.start(admin) : undefined
if (proxy) {
  proxy.inject({
    method: 'POST',
    path: PATHS.tokenRequest,
    fault: { kind: 'status', status: 503 },
    times: faults
  })
  proxy.inject({
    method: 'POST',
    path: PATHS.secretCreate,
    fault: { kind: 'reset' },
    times: faults
  })
  proxy.inject({
    method: 'POST',
    path: PATHS.accessReview,
    fault: { kind: 'status', status: 429, retryAfter: '1' },
    times: faults
  })
}
const kubeconfig = proxy
  ? proxy.kubeconfig(setup.bootstrapKubeconfig)
  : setup.bootstrapKubeconfig

async function oneRun(i: number): Promise<Outcome> {
  const runner = new FakeRunner({ GITHUB_RUN_ID: String(700000 + i) })
  const inputs = {
    'service-account': setup.scanner,
    namespace: setup.namespace,
    duration: '15m',
    kubeconfig,
    'expect-allowed': 'list pods',
    'expect-denied': 'get secrets'
  }
  try {
    let started = Date.now()
    const main = await runner.main(inputs)
    const mainSeconds = (Date.now() - started) / 1000
    started = Date.now()
    const post = await runner.post(inputs)
    const postSeconds = (Date.now() - started) / 1000
    const error = main.stdout.split('\n').find((l) => l.startsWith('::error::'))
    return {
      mainOk: main.code === 0,
      postOk: post.code === 0 && !post.stdout.includes('::warning::'),
      mainSeconds,
      postSeconds,
      retries: [...retryReasons(main), ...retryReasons(post)],
      error
    }
  } finally {
    runner.cleanup()
  }
}

console.log(
  `load: ${runs} concurrent main+post runs against ${proxy ? `the fault proxy (${faults} each of 503 on TokenRequest, reset on Secret create, 429 on access review)` : 'the test API server'}`
)
const loadBefore = os.loadavg()[0] ?? 0
const started = Date.now()
let timer: NodeJS.Timeout | undefined
const outcomes = await Promise.race([
  Promise.all(Array.from({ length: runs }, (_, i) => oneRun(i))),
  new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new Error(
          `the load did not finish within ${WHOLE_LOAD_MS / 60000} minutes`
        )
      )
    }, WHOLE_LOAD_MS)
  })
]).finally(() => {
  clearTimeout(timer)
})
const wall = (Date.now() - started) / 1000

const leftovers = (await anchorsIn(admin, setup.namespace)).length

const ok = outcomes.filter((o) => o.mainOk && o.postOk).length
const main = outcomes.map((o) => o.mainSeconds)
const post = outcomes.map((o) => o.postSeconds)
const reasons = outcomes.flatMap((o) => o.retries)
const retries = reasons.length
const byReason = new Map<string, number>()
for (const reason of reasons)
  byReason.set(reason, (byReason.get(reason) ?? 0) + 1)
const s = (n: number): string => `${n.toFixed(1)} s`
console.log(
  `runs:        ${runs} (wall ${s(wall)}; ${os.cpus().length} cores, load average ${loadBefore.toFixed(1)} before, ${(os.loadavg()[0] ?? 0).toFixed(1)} after)`
)
console.log(`successes:   ${ok} of ${runs} (main and post both clean)`)
console.log(
  `retries:     ${retries}${retries ? ` (${[...byReason].map(([r, n]) => `${n} x ${r}`).join(', ')})` : ''}`
)
console.log(
  `main:        p50 ${s(percentile(main, 0.5))}, p95 ${s(percentile(main, 0.95))}, max ${s(Math.max(...main))}`
)
console.log(
  `post:        p50 ${s(percentile(post, 0.5))}, p95 ${s(percentile(post, 0.95))}, max ${s(Math.max(...post))}`
)
console.log(`leftovers:   ${leftovers} per-run Secret(s) after all posts`)
if (proxy) {
  console.log(
    `faults hit:  ${proxy.count('status 503')} x 503, ${proxy.count('reset')} x reset, ${proxy.count('status 429')} x 429`
  )
  console.log(
    `proxy:       ${proxy.seen.length} requests on ${proxy.connections} TLS connections`
  )
}
for (const error of new Set(outcomes.map((o) => o.error).filter(Boolean))) {
  console.log(`failure:     ${error}`)
}
console.log(
  JSON.stringify({
    runs,
    faults,
    successes: ok,
    retries,
    wallSeconds: wall,
    mainP50: percentile(main, 0.5),
    mainP95: percentile(main, 0.95),
    postP50: percentile(post, 0.5),
    postP95: percentile(post, 0.95),
    leftovers
  })
)

await proxy?.stop()
await deleteNamespace(admin, setup.namespace)
if (!alreadyRunning) cluster('down')

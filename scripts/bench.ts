// `npm run bench [-- --pairs N] [--profile DIR]`: how fast, how big and how chatty the action
// is, next to `kubectl create token` on the same test API server. Figures,
// not assertions. Runs with Node 24's type stripping (like the demo) and
// reuses the end-to-end tests' fake runner and cluster fixtures.
//
// It starts its own cluster (own CLUSTER_DIR, loopback only), so a running
// test cluster is not disturbed, and stops it at the end.
import { execFile, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import {
  adminKubeConfig,
  createScanSetup,
  kubectl,
  KUBECTL,
  REPO
} from '../__tests__/e2e/support/cluster.ts'
import { FakeRunner } from '../__tests__/e2e/support/runner.ts'

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '10' },
    // `--with excess-privilege=off`: change an input, e.g. to see what a
    // part of the step costs.
    with: { type: 'string', multiple: true, default: [] },
    // `--profile DIR`: also write a V8 CPU profile of one main and one post
    // step into DIR (open in Chrome DevTools or speedscope).
    profile: { type: 'string' }
  }
})
const changed: Record<string, string> = {}
for (const pair of values.with) {
  const at = pair.indexOf('=')
  if (at < 1) throw new Error(`--with wants input=value, not '${pair}'`)
  changed[pair.slice(0, at)] = pair.slice(at + 1)
}
const PAIRS = Number.parseInt(values.pairs, 10)
if (!Number.isInteger(PAIRS) || PAIRS < 1) {
  throw new Error('--pairs must be a positive whole number')
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'est-bench-'))
const clusterDir = path.join(work, 'cluster')

function cluster(command: 'up' | 'down'): void {
  const result = spawnSync(
    process.execPath,
    [path.join(REPO, 'scripts', 'cluster.mjs'), command],
    {
      env: { ...process.env, CLUSTER_DIR: clusterDir },
      stdio: ['ignore', 'ignore', 'inherit']
    }
  )
  if (result.status !== 0) throw new Error(`cluster ${command} failed`)
}

/**
 * The credential helper a renewing kubeconfig runs before every kubectl
 * command, on a cache hit (the common case), against starting Node at all
 * (`node -e 0`), alternated pair by pair. The directory is laid out as
 * main writes it (docs/renewal.md), with a token that is not due.
 */
function helperBench(pairs: number): { helper: number[]; node: number[] } {
  const dir = path.join(work, 'ephemeral-scan-token-0123456789abcdef01234567')
  fs.mkdirSync(dir, { mode: 0o700 })
  fs.chmodSync(dir, 0o700)
  const now = Math.floor(Date.now() / 1000)
  const part = (value: unknown): string =>
    Buffer.from(JSON.stringify(value)).toString('base64url')
  const write = (name: string, value: unknown): void => {
    fs.writeFileSync(path.join(dir, name), JSON.stringify(value), {
      mode: 0o600
    })
  }
  write('renewal.json', {
    version: 1,
    server: 'https://127.0.0.1:6443',
    caData: Buffer.from('-----BEGIN CERTIFICATE-----').toString('base64'),
    namespace: 'bench',
    serviceAccount: 'scanner',
    audiences: [],
    secret: {
      name: 'ephemeral-scan-token-1-1-0011223344',
      uid: '0b5c2d1e-3f4a-4b6c-8d9e-0f1a2b3c4d5e'
    },
    windowEnd: now + 3600,
    tokenSeconds: 600,
    bootstrap: { kind: 'oidc', audience: 'bench' }
  })
  write('token.json', {
    version: 1,
    token: `${part({ alg: 'RS256' })}.${part({ sub: 'bench' })}.c2ln`,
    issuedAt: now,
    expiresAt: now + 600
  })
  const helperArgs = [path.join(REPO, 'dist', 'credential.js'), dir]
  const once = (args: string[]): number => {
    const started = process.hrtime.bigint()
    const result = spawnSync(process.execPath, args, { encoding: 'utf8' })
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9
    if (result.status !== 0) {
      throw new Error(`${args.join(' ')} failed: ${result.stderr}`)
    }
    return elapsed
  }
  once(helperArgs) // warm-up
  once(['-e', '0'])
  const helper: number[] = []
  const node: number[] = []
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 1) node.push(once(['-e', '0']))
    helper.push(once(helperArgs))
    if (i % 2 === 0) node.push(once(['-e', '0']))
  }
  return { helper, node }
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = process.hrtime.bigint()
  const result = await run()
  return [result, Number(process.hrtime.bigint() - started) / 1e9]
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2
}

/** Every file the runner downloads with the action's dist/. */
function distBytes(): { bytes: number; files: number } {
  let bytes = 0
  let files = 0
  for (const entry of fs.readdirSync(path.join(REPO, 'dist'), {
    recursive: true,
    withFileTypes: true
  })) {
    if (!entry.isFile()) continue
    bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size
    files++
  }
  return { bytes, files }
}

/** apiserver_request_total by verb and resource, read as admin. */
function requestCounts(admin: string): Map<string, number> {
  // Not kubectl() from the fixtures: /metrics is larger than its 1 MB buffer.
  const result = spawnSync(
    KUBECTL,
    ['--kubeconfig', admin, 'get', '--raw', '/metrics'],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work }
    }
  )
  if (result.status !== 0) {
    throw new Error(`reading /metrics failed: ${result.stderr}`)
  }
  const counts = new Map<string, number>()
  for (const line of result.stdout.split('\n')) {
    // The API server's own lease renewals are not the action's.
    if (!line.startsWith('apiserver_request_total{')) continue
    if (line.includes('resource="leases"')) continue
    const labels = new Map(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])
    )
    const what = [
      labels.get('verb'),
      [labels.get('resource'), labels.get('subresource')]
        .filter(Boolean)
        .join('/'),
      labels.get('code')
    ].join(' ')
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    counts.set(what, (counts.get(what) ?? 0) + value)
  }
  return counts
}

async function requestsDuring(
  admin: string,
  run: () => Promise<unknown>
): Promise<{ total: number; which: string[] }> {
  const before = requestCounts(admin)
  await run()
  const after = requestCounts(admin)
  const which: string[] = []
  let total = 0
  for (const [what, count] of after) {
    const delta = count - (before.get(what) ?? 0)
    if (delta > 0) {
      total += delta
      which.push(`${delta}× ${what}`)
    }
  }
  return { total, which }
}

const seconds = (s: number): string => `${s.toFixed(3)} s`
const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${mib(os.totalmem() / 1024)} RAM, ${os.type()} ${os.release()}, Node ${process.version}`
const loadBefore = os.loadavg()[0] ?? 0

cluster('up')
try {
  const admin = adminKubeConfig(clusterDir)
  const adminFile = path.join(clusterDir, 'admin.kubeconfig')
  const setup = await createScanSetup(admin)
  const bootstrapFile = path.join(work, 'bootstrap.kubeconfig')
  fs.writeFileSync(bootstrapFile, setup.bootstrapKubeconfig, { mode: 0o600 })
  // Default inputs, but an explicit duration: `auto` would ask the GitHub API.
  const inputs = {
    'service-account': setup.scanner,
    namespace: setup.namespace,
    duration: '15m',
    kubeconfig: setup.bootstrapKubeconfig,
    ...changed
  }
  const createToken = [
    'create',
    'token',
    setup.scanner,
    '-n',
    setup.namespace,
    '--duration=15m'
  ]

  async function action(
    env: Record<string, string> = {}
  ): Promise<{ main: number; post: number }> {
    const runner = new FakeRunner()
    try {
      const [main, mainSeconds] = await timed(() => runner.main(inputs, env))
      if (main.code !== 0) throw new Error(`main failed:\n${main.stdout}`)
      const [post, postSeconds] = await timed(() => runner.post(inputs, env))
      if (post.code !== 0) throw new Error(`post failed:\n${post.stdout}`)
      return { main: mainSeconds, post: postSeconds }
    } finally {
      runner.cleanup()
    }
  }
  // The CLI's mint and revoke with the same inputs (a kubeconfig file as
  // the bootstrap), each in its own process as a CI job runs them.
  const cliDir = path.join(work, 'cli')
  fs.mkdirSync(cliDir, { mode: 0o700 })
  function runCli(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [path.join(REPO, 'dist', 'cli.js'), ...args],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work } },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`cli ${args[0] ?? ''} failed: ${stderr}`))
          else resolve(stdout)
        }
      )
    })
  }
  async function cli(): Promise<{ mint: number; revoke: number }> {
    const common = [
      '--namespace',
      setup.namespace,
      '--kubeconfig',
      bootstrapFile,
      '--dir',
      cliDir
    ]
    const [out, mintSeconds] = await timed(() =>
      runCli([
        'mint',
        '--service-account',
        setup.scanner,
        '--duration',
        '15m',
        ...common
      ])
    )
    const { state } = JSON.parse(out) as { state: string }
    const [, revokeSeconds] = await timed(() =>
      runCli(['revoke', '--state', state, ...common])
    )
    return { mint: mintSeconds, revoke: revokeSeconds }
  }
  async function kubectlToken(): Promise<number> {
    const [result, s] = await timed(() => kubectl(bootstrapFile, createToken))
    if (result.code !== 0) throw new Error(`kubectl failed: ${result.stderr}`)
    return s
  }

  // Warm-up: disk caches, the API server's caches, kubectl's discovery cache.
  await action()
  await cli()
  await kubectlToken()

  const main: number[] = []
  const post: number[] = []
  const kube: number[] = []
  const cliMint: number[] = []
  const cliRevoke: number[] = []
  for (let i = 0; i < PAIRS; i++) {
    // Alternate who goes first, so neither always runs on a warmer machine.
    if (i % 2 === 1) kube.push(await kubectlToken())
    const recordCli = (c: { mint: number; revoke: number }): void => {
      cliMint.push(c.mint)
      cliRevoke.push(c.revoke)
    }
    if (i % 2 === 1) recordCli(await cli())
    const run = await action()
    main.push(run.main)
    post.push(run.post)
    if (i % 2 === 0) recordCli(await cli())
    if (i % 2 === 0) kube.push(await kubectlToken())
  }

  // Peak memory and CPU time, from a probe each step loads first (not in
  // the timed runs). CPU time says more than wall time on a busy machine.
  const probe = path.join(work, 'probe.mjs')
  const probeOut = path.join(work, 'probe.jsonl')
  fs.writeFileSync(
    probe,
    `import fs from 'node:fs'\nprocess.on('exit', () => fs.appendFileSync(${JSON.stringify(probeOut)}, JSON.stringify(process.resourceUsage()) + '\\n'))\n`
  )
  for (let i = 0; i < 3; i++) {
    await action({ NODE_OPTIONS: `--import=${probe}` })
  }
  const usage = fs
    .readFileSync(probeOut, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as NodeJS.ResourceUsage)
  const mainRss = median(
    usage.filter((_, i) => i % 2 === 0).map((u) => u.maxRSS)
  )
  const postRss = median(
    usage.filter((_, i) => i % 2 === 1).map((u) => u.maxRSS)
  )
  const cpu = (u: NodeJS.ResourceUsage): number =>
    (u.userCPUTime + u.systemCPUTime) / 1e6
  const mainCpu = median(usage.filter((_, i) => i % 2 === 0).map(cpu))
  const postCpu = median(usage.filter((_, i) => i % 2 === 1).map(cpu))
  const kubectlCpu = median(
    [1, 2, 3].map(() => {
      // GNU time reports a child's CPU; without it, no kubectl CPU figure.
      const timed = spawnSync(
        '/usr/bin/time',
        ['-f', '%U %S', KUBECTL, '--kubeconfig', bootstrapFile, ...createToken],
        {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work }
        }
      )
      const [user, sys] =
        timed.stderr.trim().split('\n').at(-1)?.split(' ') ?? []
      return timed.status === 0 ? Number(user) + Number(sys) : NaN
    })
  )

  if (values.profile) {
    const dir = path.resolve(values.profile)
    fs.mkdirSync(dir, { recursive: true })
    await action({
      NODE_OPTIONS: `--cpu-prof --cpu-prof-interval=100 --cpu-prof-dir=${dir}`
    })
    console.log(`CPU profiles of one main and one post step: ${dir}`)
  }

  const runner = new FakeRunner()
  const mainRequests = await requestsDuring(adminFile, () =>
    runner.main(inputs)
  )
  const postRequests = await requestsDuring(adminFile, () =>
    runner.post(inputs)
  )
  runner.cleanup()
  const kubectlRequests = await requestsDuring(adminFile, kubectlToken)
  const dist = distBytes()
  const ratio = median(main) / median(kube)
  const cacheHit = helperBench(Math.max(PAIRS, 10))

  console.log(`
ephemeral-scan-token bench: ${PAIRS} pairs after one warm-up, default inputs
(per-run Secret, verify, excess-privilege: warn) with duration: 15m${Object.entries(
    changed
  )
    .map(([k, v]) => `, ${k}: ${v}`)
    .join('')}
machine: ${machine}
load average (1 min): ${loadBefore.toFixed(2)} before, ${(os.loadavg()[0] ?? 0).toFixed(2)} after

                          median     min       max
main step              ${seconds(median(main))}  ${seconds(Math.min(...main))}  ${seconds(Math.max(...main))}
kubectl create token   ${seconds(median(kube))}  ${seconds(Math.min(...kube))}  ${seconds(Math.max(...kube))}
post step              ${seconds(median(post))}  ${seconds(Math.min(...post))}  ${seconds(Math.max(...post))}
cli mint               ${seconds(median(cliMint))}  ${seconds(Math.min(...cliMint))}  ${seconds(Math.max(...cliMint))}
cli revoke             ${seconds(median(cliRevoke))}  ${seconds(Math.min(...cliRevoke))}  ${seconds(Math.max(...cliRevoke))}

main / kubectl create token: ${ratio.toFixed(1)}×
cli mint / main step: ${(median(cliMint) / median(main)).toFixed(2)}× (side by side, same inputs)
dist/: ${dist.bytes} bytes in ${dist.files} files
peak memory (max RSS, median of 3): main ${mib(mainRss)}, post ${mib(postRss)}
CPU time (user + system, median of 3): main ${seconds(mainCpu)}, post ${seconds(postCpu)}, kubectl create token ${Number.isNaN(kubectlCpu) ? 'n/a (no /usr/bin/time)' : seconds(kubectlCpu)}
API requests, one run: ${mainRequests.total + postRequests.total} (main ${mainRequests.total}, post ${postRequests.total})
  main: ${mainRequests.which.join('\n        ')}
  post: ${postRequests.which.join('\n        ')}
API requests, kubectl create token: ${kubectlRequests.total}
  ${kubectlRequests.which.join('\n  ')}

renew-every's credential helper, cache hit (${cacheHit.helper.length} pairs; target <= 2.5x node -e 0):
                          median     min       max
helper (cache hit)     ${seconds(median(cacheHit.helper))}  ${seconds(Math.min(...cacheHit.helper))}  ${seconds(Math.max(...cacheHit.helper))}
node -e 0              ${seconds(median(cacheHit.node))}  ${seconds(Math.min(...cacheHit.node))}  ${seconds(Math.max(...cacheHit.node))}
helper / node -e 0: ${(median(cacheHit.helper) / median(cacheHit.node)).toFixed(2)}×`)
} finally {
  cluster('down')
  fs.rmSync(work, { recursive: true, force: true })
}

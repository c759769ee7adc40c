#!/usr/bin/env node
// Local test cluster: a real kube-apiserver (embedded etcd, see test/cluster)
// on loopback, plus kubectl, for the e2e tests and local experiments.
//
//   node scripts/cluster.mjs up      build if needed, start, write kubeconfig
//   node scripts/cluster.mjs down    stop and remove the cluster directory
//   node scripts/cluster.mjs build   (re)build .cache/bin/{kas,kubectl} only
//
// Environment:
//   CLUSTER_DIR         cluster state directory (default: <repo>/.cluster), so
//                       tests can run a second, differently configured cluster
//   CLUSTER_EXTRA_ARGS  extra kube-apiserver flags, whitespace-separated, e.g.
//                       "--service-account-max-token-expiration=1h"
//   GO                  go binary (default: go on PATH, else /usr/local/go/bin/go)
//
// Plain Node ESM with built-ins only: it must run before `npm ci` and on both
// Node 20 and Node 24.

import { spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SRC_DIR = path.join(ROOT, 'test', 'cluster')
const BIN_DIR = path.join(ROOT, '.cache', 'bin')
const KAS = path.join(BIN_DIR, 'kas')
const KUBECTL = path.join(BIN_DIR, 'kubectl')
const DIR = process.env.CLUSTER_DIR
  ? path.resolve(process.env.CLUSTER_DIR)
  : path.join(ROOT, '.cluster')

const F = {
  pid: path.join(DIR, 'pid'),
  port: path.join(DIR, 'port'),
  env: path.join(DIR, 'env'),
  log: path.join(DIR, 'apiserver.log'),
  saKey: path.join(DIR, 'sa.key'),
  tokens: path.join(DIR, 'tokens.csv'),
  pki: path.join(DIR, 'pki'),
  cert: path.join(DIR, 'pki', 'apiserver.crt'),
  etcd: path.join(DIR, 'etcd'),
  kubeconfig: path.join(DIR, 'admin.kubeconfig'),
  kubectl: path.join(DIR, 'kubectl')
}

// Issuer and API audience of minted ServiceAccount tokens.
const ISSUER = 'https://kubernetes.default.svc.cluster.local'
const READY_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 20_000

const log = (msg) => console.log(`cluster: ${msg}`)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1)

function fail(msg) {
  console.error(`cluster: ${msg}`)
  process.exit(1)
}

// ---------------------------------------------------------------- build

function findGo() {
  if (process.env.GO) return process.env.GO
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir || '.', 'go')
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {
      // not here, keep looking
    }
  }
  if (fs.existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go'
  fail('no Go toolchain found (need Go >= 1.25); set GO=/path/to/go')
}

// The Kubernetes version comes from go.mod so the ldflags cannot drift from
// the code actually compiled in.
function k8sVersion() {
  const gomod = fs.readFileSync(path.join(SRC_DIR, 'go.mod'), 'utf8')
  const m = gomod.match(/^\s*k8s\.io\/kubernetes (v(\d+)\.(\d+)\.\d+\S*)/m)
  if (!m)
    fail('cannot find the k8s.io/kubernetes version in test/cluster/go.mod')
  return { version: m[1], major: m[2], minor: m[3] }
}

function newestSourceMtime(dir) {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(p))
    else newest = Math.max(newest, fs.statSync(p).mtimeMs)
  }
  return newest
}

function isStale(bin, srcMtime) {
  try {
    const st = fs.statSync(bin)
    return st.size === 0 || st.mtimeMs < srcMtime
  } catch {
    return true
  }
}

function goBuild(go, pkg, out, ldflags) {
  const res = spawnSync(
    go,
    ['build', '-trimpath', '-ldflags', ldflags, '-o', out, pkg],
    {
      cwd: SRC_DIR,
      stdio: 'inherit',
      // local: never download a toolchain; no cgo: static, host-independent.
      env: { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' }
    }
  )
  if (res.error) fail(`cannot run ${go}: ${res.error.message}`)
  if (res.status !== 0) fail(`go build ${pkg} failed (exit ${res.status})`)
  // go build leaves an up-to-date target untouched; bump the mtime so the
  // staleness check above does not re-run go build on every `up`.
  const now = new Date()
  fs.utimesSync(out, now, now)
}

function build({ force }) {
  const srcMtime = newestSourceMtime(SRC_DIR)
  const targets = [
    {
      what: 'kube-apiserver',
      pkg: '.',
      out: KAS,
      note: ' (cold build can take ~15 min)'
    },
    { what: 'kubectl', pkg: './kubectl', out: KUBECTL, note: '' }
  ].filter((t) => force || isStale(t.out, srcMtime))
  if (targets.length === 0) return

  const go = findGo()
  const v = k8sVersion()
  // -s -w: no symbol/DWARF tables, they only make the binaries bigger.
  const ldflags = [
    '-s -w',
    `-X k8s.io/component-base/version.gitVersion=${v.version}`,
    `-X k8s.io/component-base/version.gitMajor=${v.major}`,
    `-X k8s.io/component-base/version.gitMinor=${v.minor}`,
    '-X k8s.io/component-base/version.gitTreeState=clean'
  ].join(' ')
  fs.mkdirSync(BIN_DIR, { recursive: true })
  for (const t of targets) {
    log(`building ${t.what} ${v.version}${t.note}...`)
    const started = Date.now()
    goBuild(go, t.pkg, t.out, ldflags)
    log(`built ${path.relative(ROOT, t.out)} in ${seconds(started)} s`)
  }
}

// ---------------------------------------------------------------- process helpers

function readPid() {
  try {
    const pid = Number.parseInt(fs.readFileSync(F.pid, 'utf8'), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if (err.code !== 'EPERM') return false
  }
  // A zombie still answers kill(0); containers whose init does not reap
  // would otherwise make a stopped apiserver look alive.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(
      stat.lastIndexOf(')') + 2,
      stat.lastIndexOf(')') + 3
    )
    return state !== 'Z' && state !== 'X'
  } catch {
    return true // no procfs (macOS): trust kill(0)
  }
}

// Guards against signalling an unrelated process that reused a stale pid:
// our apiserver is the one started with this cluster's --cert-dir.
function isOurApiserver(pid) {
  if (!isAlive(pid)) return false
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    return argv.includes(`--cert-dir=${F.pki}`)
  } catch {
    return true // no procfs: best effort
  }
}

async function stopProcess(pid) {
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return
    await sleep(200)
  }
  log(
    `pid ${pid} still running after ${STOP_TIMEOUT_MS / 1000} s, sending SIGKILL`
  )
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
  for (let i = 0; i < 25 && isAlive(pid); i++) await sleep(200)
}

// Refuse to delete a directory we did not create (CLUSTER_DIR is user input).
function looksLikeClusterDir() {
  let entries
  try {
    entries = fs.readdirSync(DIR)
  } catch {
    return false
  }
  return (
    entries.length === 0 ||
    ['pid', 'tokens.csv', 'apiserver.log'].some((f) => entries.includes(f))
  )
}

function removeClusterDir() {
  if (!fs.existsSync(DIR)) return
  if (!looksLikeClusterDir()) {
    fail(
      `${DIR} exists but does not look like a cluster directory; not removing it`
    )
  }
  fs.rmSync(DIR, { recursive: true, force: true })
}

// ---------------------------------------------------------------- network helpers

async function freePorts(n) {
  // Hold all listeners open together so the ports are distinct, then release
  // them for kas; the tiny reuse race is acceptable for a test cluster.
  const servers = []
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer()
      await new Promise((resolve, reject) => {
        srv.once('error', reject)
        srv.listen(0, '127.0.0.1', resolve)
      })
      servers.push(srv)
    }
    return servers.map((s) => s.address().port)
  } finally {
    await Promise.all(
      servers.map((s) => new Promise((resolve) => s.close(resolve)))
    )
  }
}

function httpsGet(port, urlPath, options = {}) {
  return new Promise((resolve) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: urlPath, timeout: 3000, ...options },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode))
        res.on('error', () => resolve(0))
      }
    )
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(0))
  })
}

// Anonymous readiness probe: /readyz is public (system:public-info-viewer).
// TLS verification is off here only, because we just want to know if it serves.
async function isReady(port) {
  return (
    (await httpsGet(port, '/readyz', { rejectUnauthorized: false })) === 200
  )
}

function logTail(lines = 40) {
  try {
    return fs
      .readFileSync(F.log, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .join('\n')
  } catch {
    return '(no apiserver.log)'
  }
}

// ---------------------------------------------------------------- up / down

function apiserverArgs(port) {
  const extra = (process.env.CLUSTER_EXTRA_ARGS ?? '')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
  return [
    '--bind-address=127.0.0.1',
    // Loopback must be advertised explicitly: otherwise the apiserver picks a
    // host interface and fails on hosts without a default route.
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${F.pki}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    // The endpoints reconciler would try to publish 127.0.0.1, which
    // validation rejects.
    '--endpoint-reconciler-type=none',
    '--authorization-mode=RBAC',
    `--token-auth-file=${F.tokens}`,
    `--service-account-issuer=${ISSUER}`,
    `--service-account-signing-key-file=${F.saKey}`,
    `--service-account-key-file=${F.saKey}`,
    `--api-audiences=${ISSUER}`,
    // Tests compare JWT exp with the requested lifetime; no silent 1y extension.
    '--service-account-extend-token-expiration=false',
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    ...extra
  ]
}

function writePrivate(file, data, mode = 0o600) {
  fs.writeFileSync(file, data, { mode })
  fs.chmodSync(file, mode) // the umask may have stripped bits from `mode`
}

function shQuote(s) {
  return `'${s.replaceAll("'", `'\\''`)}'`
}

function envValue(s) {
  return /^[\w@%+=:,./-]*$/.test(s) ? s : shQuote(s)
}

function writeClientFiles(port, token) {
  const server = `https://127.0.0.1:${port}`
  const ca = fs.readFileSync(F.cert).toString('base64')
  const kubeconfig = `apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster:
      server: ${server}
      certificate-authority-data: ${ca}
users:
  - name: admin
    user:
      token: ${token}
contexts:
  - name: admin
    context:
      cluster: local
      user: admin
current-context: admin
`
  writePrivate(F.kubeconfig, kubeconfig)

  // Only default to the admin kubeconfig when the caller chose none, so tests
  // can run this wrapper with KUBECONFIG=<token kubeconfig> or --kubeconfig.
  const wrapper = `#!/bin/sh
# Generated by scripts/cluster.mjs: kubectl for the local test cluster.
for arg in "$@"; do
  case "$arg" in
    --) break ;;
    --kubeconfig|--kubeconfig=*) exec ${shQuote(KUBECTL)} "$@" ;;
  esac
done
if [ -n "\${KUBECONFIG:-}" ]; then
  exec ${shQuote(KUBECTL)} "$@"
fi
exec ${shQuote(KUBECTL)} --kubeconfig ${shQuote(F.kubeconfig)} "$@"
`
  writePrivate(F.kubectl, wrapper, 0o755)

  const env = {
    PORT: String(port),
    SERVER: server,
    KUBECONFIG: F.kubeconfig,
    KUBECTL: F.kubectl,
    CA_FILE: F.cert,
    ISSUER
  }
  writePrivate(
    F.env,
    Object.entries(env)
      .map(([k, v]) => `${k}=${envValue(v)}\n`)
      .join('')
  )
  return server
}

// Checks what readyz cannot: that the kubeconfig's CA verifies the serving
// certificate and that the admin token is accepted.
async function checkAdminAccess(port, token) {
  const status = await httpsGet(port, '/api/v1/namespaces', {
    ca: fs.readFileSync(F.cert),
    headers: { Authorization: `Bearer ${token}` }
  })
  if (status !== 200)
    fail(`admin request with the new kubeconfig got HTTP ${status || 'error'}`)
}

async function up() {
  build({ force: false })

  const oldPid = readPid()
  if (oldPid && isOurApiserver(oldPid)) {
    const port = Number.parseInt(fs.readFileSync(F.port, 'utf8'), 10)
    if (await isReady(port)) {
      log(
        `cluster already running at https://127.0.0.1:${port} (pid ${oldPid})`
      )
      return
    }
    log(`pid ${oldPid} is running but not ready; restarting the cluster`)
    await stopProcess(oldPid)
  }
  // Nothing usable is running: start from a clean slate so stale etcd data,
  // certificates or tokens can never leak into a new cluster.
  removeClusterDir()
  fs.mkdirSync(DIR, { recursive: true, mode: 0o700 })
  fs.chmodSync(DIR, 0o700)

  const { privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' }
  })
  writePrivate(F.saKey, privateKey)
  const token = crypto.randomBytes(32).toString('hex')
  writePrivate(F.tokens, `${token},admin,admin-uid,system:masters\n`)

  const [port, etcdClientPort, etcdPeerPort] = await freePorts(3)
  const args = apiserverArgs(port)
  const logFd = fs.openSync(F.log, 'a', 0o600)
  fs.writeSync(logFd, `# ${KAS} ${args.join(' ')}\n`)
  const started = Date.now()
  const child = spawn(KAS, args, {
    cwd: DIR,
    detached: true, // own process group: survives this script and Ctrl-C
    stdio: ['ignore', logFd, logFd],
    env: {
      ...process.env,
      KAS_ETCD_DIR: F.etcd,
      KAS_ETCD_CLIENT_PORT: String(etcdClientPort),
      KAS_ETCD_PEER_PORT: String(etcdPeerPort)
    }
  })
  fs.closeSync(logFd)
  let exited = null
  child.on('exit', (code, signal) => (exited = signal ?? `exit code ${code}`))
  child.on('error', (err) => (exited = err.message))
  child.unref()
  writePrivate(F.pid, `${child.pid}\n`)
  writePrivate(F.port, `${port}\n`)
  log(
    `starting kube-apiserver (pid ${child.pid}) on https://127.0.0.1:${port}...`
  )

  while (!(await isReady(port))) {
    if (exited !== null || Date.now() - started > READY_TIMEOUT_MS) {
      const why =
        exited !== null
          ? `exited (${exited})`
          : `not ready after ${READY_TIMEOUT_MS / 1000} s`
      console.error(
        `cluster: kube-apiserver ${why}; tail of ${F.log}:\n${logTail()}`
      )
      if (exited === null) await stopProcess(child.pid)
      process.exit(1)
    }
    await sleep(250)
  }

  const server = writeClientFiles(port, token)
  await checkAdminAccess(port, token)
  log(`cluster ready at ${server} in ${seconds(started)} s`)
  log(`kubectl: ${path.relative(process.cwd(), F.kubectl) || F.kubectl}`)
}

async function down() {
  const pid = readPid()
  if (pid && isOurApiserver(pid)) {
    log(`stopping kube-apiserver (pid ${pid})...`)
    await stopProcess(pid)
    log('cluster stopped')
  } else if (fs.existsSync(DIR)) {
    log('no running cluster; removing state')
  } else {
    log('no cluster')
  }
  removeClusterDir()
}

const commands = {
  up,
  down,
  build: async () => build({ force: true })
}
const cmd = commands[process.argv[2]]
if (!cmd) {
  console.error('usage: node scripts/cluster.mjs up|down|build')
  process.exit(2)
}
await cmd()

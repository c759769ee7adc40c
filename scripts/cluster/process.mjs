// The running kube-apiserver: finding, checking and stopping our own
// process, free loopback ports, and readiness.
import fs from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import { DIR, F, STOP_TIMEOUT_MS, fail, log, sleep } from './common.mjs'

export function readPid(file = F.pid) {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10)
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
export function isOurApiserver(pid) {
  if (!isAlive(pid)) return false
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    return argv.includes(`--cert-dir=${F.pki}`)
  } catch {
    return true // no procfs: best effort
  }
}

// The same guard for the node agent: the one serving this cluster's node dir.
export function isOurNodeAgent(pid) {
  if (!isAlive(pid)) return false
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    return argv.includes(`--dir=${F.node}`)
  } catch {
    return true // no procfs: best effort
  }
}

export async function stopProcess(pid) {
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

export function removeClusterDir() {
  if (!fs.existsSync(DIR)) return
  if (!looksLikeClusterDir()) {
    fail(
      `${DIR} exists but does not look like a cluster directory; not removing it`
    )
  }
  fs.rmSync(DIR, { recursive: true, force: true })
}

export async function freePorts(n) {
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

export async function httpsGet(port, urlPath, options = {}) {
  return (await httpsGetBody(port, urlPath, options)).status
}

/** GET over loopback HTTPS: `{ status, body }`, status 0 on any error. */
export function httpsGetBody(port, urlPath, options = {}) {
  return new Promise((resolve) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: urlPath, timeout: 3000, ...options },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode, body }))
        res.on('error', () => resolve({ status: 0, body: '' }))
      }
    )
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve({ status: 0, body: '' }))
  })
}

// Anonymous readiness probe: /readyz is public (system:public-info-viewer).
// TLS verification is off here only, because we just want to know if it serves.
export async function isReady(port) {
  return (
    (await httpsGet(port, '/readyz', { rejectUnauthorized: false })) === 200
  )
}

export function logTail(lines = 40, file = F.log) {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .join('\n')
  } catch {
    return `(no ${file})`
  }
}

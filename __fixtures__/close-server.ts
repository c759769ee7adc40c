import type * as http from 'node:http'

/**
 * Stops a loopback test server now: drops its kept-alive connections (a
 * client such as the API server keeps them open) and waits for it to close.
 */
export async function closeServer(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    server.close(() => {
      resolve()
    })
  })
  server.closeAllConnections()
  await closed
}

// A throwaway certificate for loopback TLS servers in tests (generated per
// run, never committed): it is its own CA, valid for 127.0.0.1, ::1 and localhost.
import { generate } from 'selfsigned'

export interface LoopbackCertificate {
  /** PEM private key. */
  key: string
  /** PEM certificate, also the CA a client must trust. */
  cert: string
}

export async function loopbackCertificate(
  name = 'loopback test server'
): Promise<LoopbackCertificate> {
  const pems = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' }
        ]
      }
    ]
  })
  return { key: pems.private, cert: pems.cert }
}

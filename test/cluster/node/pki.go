package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// APIServerClientCN is the only client the agent serves: the API server,
// authenticating with the kubelet client certificate written by writePKI.
const APIServerClientCN = "kube-apiserver-kubelet-client"

// The files writePKI makes in its directory. The CA's private key is never
// written: once these exist nobody can issue another certificate the agent
// or the API server would accept.
const (
	caFile          = "ca.crt"                       // --kubelet-certificate-authority; the agent's client CA
	servingCertFile = "kubelet.crt"                  // the agent's serving certificate (IP 127.0.0.1)
	servingKeyFile  = "kubelet.key"                  //
	clientCertFile  = "apiserver-kubelet-client.crt" // --kubelet-client-certificate
	clientKeyFile   = "apiserver-kubelet-client.key" // --kubelet-client-key
)

// certificateLifetime outlives any test run and a developer's long-lived
// `npm run cluster:up`; `cluster:up` after `down` makes a new set anyway.
const certificateLifetime = 365 * 24 * time.Hour

func newKey() *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fatalf("generating a key: %v", err)
	}
	return key
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		fatalf("generating a serial number: %v", err)
	}
	return n
}

func writePEM(path, kind string, der []byte, mode os.FileMode) {
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(path, data, mode); err != nil {
		fatalf("writing %s: %v", path, err)
	}
	// WriteFile applies the umask; the keys must be 0600 whatever it is.
	if err := os.Chmod(path, mode); err != nil {
		fatalf("chmod %s: %v", path, err)
	}
}

func writeKey(path string, key *ecdsa.PrivateKey) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		fatalf("encoding %s: %v", path, err)
	}
	writePEM(path, "PRIVATE KEY", der, 0o600)
}

// writePKI makes a throwaway CA and the two leaf certificates of the
// API server <-> node connection: the agent's serving certificate (server
// auth only, for 127.0.0.1) and the API server's kubelet client certificate
// (client auth only, CN APIServerClientCN). The distinct key usages keep one
// from standing in for the other.
func writePKI(dir string) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fatalf("creating %s: %v", dir, err)
	}
	now := time.Now()
	notBefore := now.Add(-time.Minute) // tolerate small clock differences
	notAfter := now.Add(certificateLifetime)

	caKey := newKey()
	caTemplate := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "ephemeral-scan-token test node CA"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		fatalf("creating the CA certificate: %v", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		fatalf("parsing the CA certificate: %v", err)
	}
	writePEM(filepath.Join(dir, caFile), "CERTIFICATE", caDER, 0o644)

	leaf := func(name string, template *x509.Certificate, certPath, keyPath string) {
		key := newKey()
		template.SerialNumber = serial()
		template.NotBefore = notBefore
		template.NotAfter = notAfter
		template.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
		if err != nil {
			fatalf("creating the %s certificate: %v", name, err)
		}
		writePEM(certPath, "CERTIFICATE", der, 0o644)
		writeKey(keyPath, key)
	}
	leaf("serving", &x509.Certificate{
		Subject:     pkix.Name{CommonName: "ephemeral-scan-token test node"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, filepath.Join(dir, servingCertFile), filepath.Join(dir, servingKeyFile))
	leaf("kubelet client", &x509.Certificate{
		Subject:     pkix.Name{CommonName: APIServerClientCN},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, filepath.Join(dir, clientCertFile), filepath.Join(dir, clientKeyFile))
	fmt.Fprintf(os.Stderr, "node-agent: wrote the node PKI in %s\n", dir)
}

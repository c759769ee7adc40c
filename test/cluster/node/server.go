package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/kubelet/pkg/cri/streaming/remotecommand"
)

// streamIdleTimeout ends an exec session with no traffic, as the kubelet's
// --streaming-connection-idle-timeout does (its default is 4h; a test
// cluster needs far less).
const streamIdleTimeout = 30 * time.Minute

// tlsConfig serves the agent's certificate and accepts only a client
// certificate that chains to the node CA, is meant for client auth and names
// the API server (CN APIServerClientCN). The API server is the only client
// that holds such a certificate; a kubectl or curl without one is refused
// in the TLS handshake, before any HTTP.
func tlsConfig(pkiDir string) (*tls.Config, error) {
	serving, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, servingCertFile), filepath.Join(pkiDir, servingKeyFile))
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(filepath.Join(pkiDir, caFile))
	if err != nil {
		return nil, err
	}
	clientCAs := x509.NewCertPool()
	if !clientCAs.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{serving},
		// Go checks the chain and the client-auth key usage.
		ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs:  clientCAs,
		VerifyConnection: func(state tls.ConnectionState) error {
			if len(state.PeerCertificates) == 0 || state.PeerCertificates[0].Subject.CommonName != APIServerClientCN {
				return errors.New("client certificate is not the API server's kubelet client certificate")
			}
			return nil
		},
		// SPDY and WebSocket upgrades are HTTP/1.1 only.
		NextProtos: []string{"http/1.1"},
	}, nil
}

func (a *agent) serve(ctx context.Context) (*http.Server, error) {
	cfg, err := tlsConfig(a.pkiDir)
	if err != nil {
		return nil, fmt.Errorf("loading the node PKI from %s: %w", a.pkiDir, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})
	// The kubelet's path for exec (pkg/kubelet/server), which the API server's
	// pods/exec proxy calls; GET for WebSocket, POST for SPDY.
	mux.HandleFunc("/exec/{namespace}/{pod}/{container}", a.handleExec)
	server := &http.Server{
		Handler:           mux,
		TLSConfig:         cfg,
		ReadHeaderTimeout: 30 * time.Second,
		// Refused handshakes (a client without the API server's certificate)
		// land here: the peer address and the TLS reason, nothing more.
		ErrorLog: log.New(a.log, "node-agent: ", log.LstdFlags),
		// No HTTP/2: the upgrades need HTTP/1.1.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		BaseContext:  func(net.Listener) context.Context { return ctx },
	}
	listener, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(a.port)))
	if err != nil {
		return nil, err
	}
	go func() {
		if err := server.ServeTLS(listener, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fatalf("serving: %v", err)
		}
	}()
	return server, nil
}

func (a *agent) handleExec(w http.ResponseWriter, req *http.Request) {
	namespace, name, container := req.PathValue("namespace"), req.PathValue("pod"), req.PathValue("container")
	pod, err := a.pods.lister.Pods(namespace).Get(name)
	switch {
	case apierrors.IsNotFound(err):
		http.Error(w, fmt.Sprintf("pod %s/%s is not on node %s", namespace, name, a.nodeName), http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	case pod.DeletionTimestamp != nil || !running(pod):
		http.Error(w, fmt.Sprintf("pod %s/%s is not running", namespace, name), http.StatusBadRequest)
		return
	}
	var spec *corev1.Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == container {
			spec = &pod.Spec.Containers[i]
		}
	}
	if spec == nil {
		http.Error(w, fmt.Sprintf("container %q not found in pod %s/%s", container, namespace, name), http.StatusNotFound)
		return
	}
	options, err := remotecommand.NewOptions(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	command := req.URL.Query()[corev1.ExecCommandParam]
	if len(command) == 0 {
		http.Error(w, "no command given", http.StatusBadRequest)
		return
	}
	// The upgraded (hijacked) connection outlives the request context's
	// usual cancellation, so tie the session to the agent's lifetime too.
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	defer context.AfterFunc(a.ctx, cancel)()
	remotecommand.ServeExec(w, req.WithContext(ctx), &podExecutor{agent: a, pod: pod, container: spec},
		podKey(namespace, name), pod.UID, container, command, options,
		streamIdleTimeout, remotecommandconsts.DefaultStreamCreationTimeout,
		remotecommandconsts.SupportedStreamingProtocols)
}

// Command kas runs a single-member embedded etcd and an in-process
// kube-apiserver in one process, bound to loopback, for the e2e tests.
//
// Every CLI argument is handed to kube-apiserver unchanged; kas only appends
// --etcd-servers pointing at its own etcd. etcd is configured by env vars:
//
//	KAS_ETCD_DIR          data directory (required)
//	KAS_ETCD_CLIENT_PORT  loopback client port (required)
//	KAS_ETCD_PEER_PORT    loopback peer port (required; etcd cannot use port 0
//	                      here because the initial cluster must name the real URL)
//	KAS_ETCD_LOG_LEVEL    etcd log level (default "error"; the apiserver log is
//	                      what matters when debugging the tests)
package main

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kas: "+format+"\n", args...)
	os.Exit(1)
}

func portFromEnv(name string) int {
	raw := os.Getenv(name)
	port, err := strconv.Atoi(raw)
	if err != nil || port <= 0 || port > 65535 {
		fatalf("%s must be a TCP port, got %q", name, raw)
	}
	return port
}

func loopbackURL(port int) url.URL {
	return url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(port)}
}

func startEtcd() (*embed.Etcd, url.URL) {
	dir := os.Getenv("KAS_ETCD_DIR")
	if dir == "" {
		fatalf("KAS_ETCD_DIR is required")
	}
	client := loopbackURL(portFromEnv("KAS_ETCD_CLIENT_PORT"))
	peer := loopbackURL(portFromEnv("KAS_ETCD_PEER_PORT"))

	cfg := embed.NewConfig()
	cfg.Name = "kas"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// Throwaway test data: skipping fsync makes startup and writes much faster.
	cfg.UnsafeNoFsync = true
	cfg.LogLevel = "error"
	if lvl := os.Getenv("KAS_ETCD_LOG_LEVEL"); lvl != "" {
		cfg.LogLevel = lvl
	}

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fatalf("starting etcd: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		fatalf("etcd failed: %v", err)
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		fatalf("etcd not ready after 60s")
	}
	// If etcd dies underneath the apiserver, exit instead of serving a
	// half-broken cluster that only fails later with confusing errors.
	go func() {
		if err, ok := <-e.Err(); ok && err != nil {
			fatalf("etcd failed: %v", err)
		}
	}()
	return e, client
}

func main() {
	etcd, etcdURL := startEtcd()

	// NewAPIServerCommand installs the process-wide SIGTERM/SIGINT handler,
	// so it must be created exactly once; Run returns after graceful shutdown.
	cmd := app.NewAPIServerCommand()
	args := append(os.Args[1:], "--etcd-servers="+etcdURL.String())
	cmd.SetArgs(args)
	if code := cli.Run(cmd); code != 0 {
		// Skip etcd's noisy shutdown so the apiserver's error stays at the end
		// of the log, where `cluster.mjs up` shows it; the data is throwaway.
		os.Exit(code)
	}
	etcd.Close()
}

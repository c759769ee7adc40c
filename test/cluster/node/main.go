// Command node-agent is the test cluster's node: a small kubelet stand-in
// that registers a Ready Node, reports the pods bound to it as Running, and
// serves the kubelet's exec endpoint, so `kubectl exec` through the real
// kube-apiserver runs the command on this machine. No container runtime:
// the image is never pulled, the command runs as a host process in a
// per-pod working directory. The stream protocols (SPDY and WebSocket,
// stdin/stdout/stderr, TTY and resize, exit code) are the kubelet's own
// (k8s.io/kubelet/pkg/cri/streaming/remotecommand).
//
//	node-agent pki --dir DIR
//	    writes the node CA, the agent's serving certificate and the API
//	    server's kubelet client certificate (scripts/cluster runs this
//	    before starting kube-apiserver, which needs the latter)
//	node-agent run --dir DIR --kubeconfig FILE --node-name NAME --port PORT
//	    registers the Node with the kubeconfig's identity (a system:node:NAME
//	    user, authorized by the Node authorizer) and serves on 127.0.0.1:PORT
//
// It logs what it does (one line per pod change and per exec: where, the
// program's base name, the exit code), never a request's headers or a
// command's arguments: the API server authenticates to it with its own
// client certificate, and a caller's token does not reach it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "node-agent: "+format+"\n", args...)
	os.Exit(1)
}

type agent struct {
	ctx      context.Context
	dir      string
	pkiDir   string
	nodeName string
	port     int
	path     string // PATH of the exec'd commands
	log      io.Writer
	pods     *podController
	execs    execs
}

func (a *agent) logf(format string, args ...any) {
	fmt.Fprintf(a.log, "%s node-agent: %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

func main() {
	if len(os.Args) < 2 {
		fatalf("usage: node-agent pki|run [flags]")
	}
	flags := flag.NewFlagSet("node-agent "+os.Args[1], flag.ExitOnError)
	dir := flags.String("dir", "", "the agent's directory (pki/, pods/)")
	kubeconfig := flags.String("kubeconfig", "", "kubeconfig of the node's identity (run)")
	nodeName := flags.String("node-name", "", "the Node's name (run)")
	port := flags.Int("port", 0, "loopback port to serve on (run)")
	_ = flags.Parse(os.Args[2:])
	if *dir == "" {
		fatalf("--dir is required")
	}
	switch os.Args[1] {
	case "pki":
		writePKI(filepath.Join(*dir, "pki"))
	case "run":
		if *kubeconfig == "" || *nodeName == "" || *port <= 0 || *port > 65535 {
			fatalf("run needs --kubeconfig, --node-name and --port")
		}
		run(*dir, *kubeconfig, *nodeName, *port)
	default:
		fatalf("unknown command %q", os.Args[1])
	}
}

func run(dir, kubeconfig, nodeName string, port int) {
	// SIGTERM (cluster:down) ends every exec'd command with the agent.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	a := &agent{
		ctx:      ctx,
		dir:      dir,
		pkiDir:   filepath.Join(dir, "pki"),
		nodeName: nodeName,
		port:     port,
		path:     os.Getenv("PATH"),
		log:      os.Stderr,
	}
	if a.path == "" {
		a.path = "/usr/local/bin:/usr/bin:/bin"
	}
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		fatalf("loading %s: %v", kubeconfig, err)
	}
	config.UserAgent = "node-agent/" + nodeName
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		fatalf("client: %v", err)
	}

	pods, factory := newPodController(a, client)
	a.pods = pods
	// Serve before registering: once the Node says Ready with this port, the
	// API server may send exec requests at once.
	server, err := a.serve(ctx)
	if err != nil {
		fatalf("%v", err)
	}
	factory.Start(ctx.Done())
	go pods.run(ctx)
	if err := a.registerNode(ctx, client); err != nil {
		fatalf("%v", err)
	}
	a.logf("node %s is Ready, serving exec on https://127.0.0.1:%d", nodeName, port)
	go a.heartbeat(ctx, client)

	<-ctx.Done()
	a.logf("stopping")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = server.Shutdown(shutdown)
	factory.Shutdown()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// outputDrainTimeout bounds the wait for a command's output after it
// exited: a background child that keeps stdout or the terminal open must not
// hold the exec session (and the API server's connection) forever.
const outputDrainTimeout = 5 * time.Second

// podExecutor runs `kubectl exec` commands for one container of one pod as
// processes on this machine, in the pod's working directory. It implements
// the Executor of the kubelet's streaming package, which does the SPDY and
// WebSocket protocol work and turns the returned error into the exit code.
type podExecutor struct {
	agent     *agent
	pod       *corev1.Pod
	container *corev1.Container
}

// environment is deliberately small: not the agent's own environment (which
// could carry the caller's CI secrets), only what a container would see from
// its spec (literal values) plus PATH to find the host's programs.
func (e *podExecutor) environment(dir string, tty bool) []string {
	env := []string{
		"PATH=" + e.agent.path,
		"HOME=" + dir,
		"HOSTNAME=" + e.pod.Name,
	}
	if tty {
		env = append(env, "TERM=xterm")
	}
	for _, v := range e.container.Env {
		if v.ValueFrom == nil {
			env = append(env, v.Name+"="+v.Value)
		}
	}
	return env
}

func (e *podExecutor) ExecInContainer(ctx context.Context, _ string, _ types.UID, _ string, cmd []string,
	stdin io.Reader, stdout, stderr io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	started := time.Now()
	code, err := e.run(ctx, cmd, stdin, stdout, stderr, tty, resize)
	// The command line is not logged: its arguments are the caller's and may
	// hold anything; the program's base name says enough to debug.
	e.agent.logf("exec %s/%s/%s %s (tty=%t, stdin=%t): exit %d in %.2fs",
		e.pod.Namespace, e.pod.Name, e.container.Name, filepath.Base(cmd[0]), tty, stdin != nil, code,
		time.Since(started).Seconds())
	if err != nil {
		return err
	}
	if code != 0 {
		return utilexec.CodeExitError{Err: fmt.Errorf("command terminated with exit code %d", code), Code: code}
	}
	return nil
}

func (e *podExecutor) run(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.WriteCloser,
	tty bool, resize <-chan remotecommand.TerminalSize) (int, error) {
	if len(argv) == 0 {
		return 0, errors.New("no command given")
	}
	dir := e.agent.podDir(e.pod)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	// Looked up with the container's PATH, not the agent's.
	path := argv[0]
	if filepath.Base(path) == path {
		found, err := lookPath(path, e.agent.path)
		if err != nil {
			// What a container runtime answers: the message on stderr, 127.
			msg := fmt.Sprintf("exec: %q: executable file not found in $PATH\n", argv[0])
			if tty {
				_, _ = io.WriteString(stdout, msg)
			} else if stderr != nil {
				_, _ = io.WriteString(stderr, msg)
			}
			return 127, nil
		}
		path = found
	}
	c := exec.Command(path, argv[1:]...)
	c.Args[0] = argv[0]
	c.Dir = dir
	c.Env = e.environment(dir, tty)

	ctx, release := e.agent.track(ctx, e.pod)
	defer release()

	var waitErr error
	if tty {
		waitErr = runWithTerminal(ctx, c, stdin, stdout, resize)
	} else {
		waitErr = runWithPipes(ctx, c, stdin, stdout, stderr)
	}
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
		return 0, nil
	case errors.As(waitErr, &exitErr):
		if status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			return 128 + int(status.Signal()), nil // as a shell reports it
		}
		return exitErr.ExitCode(), nil
	default:
		return 0, waitErr
	}
}

func lookPath(file, pathList string) (string, error) {
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			continue
		}
		candidate := filepath.Join(dir, file)
		if st, err := os.Stat(candidate); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return candidate, nil
		}
	}
	return "", exec.ErrNotFound
}

// killGroup ends the command and anything it started (its own process group).
func killGroup(c *exec.Cmd) {
	if c.Process != nil {
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
}

// stopOnCancel kills the command's process group when ctx ends (the agent
// stops, or the pod is deleted) until the returned func is called.
func stopOnCancel(ctx context.Context, c *exec.Cmd) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			killGroup(c)
		case <-done:
		}
	}()
	return func() { close(done) }
}

func runWithPipes(ctx context.Context, c *exec.Cmd, stdin io.Reader, stdout, stderr io.Writer) error {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if stdout != nil {
		c.Stdout = stdout
	}
	if stderr != nil {
		c.Stderr = stderr
	}
	c.WaitDelay = outputDrainTimeout
	var in io.WriteCloser
	if stdin != nil {
		pipe, err := c.StdinPipe()
		if err != nil {
			return err
		}
		in = pipe
	}
	if err := c.Start(); err != nil {
		return err
	}
	defer stopOnCancel(ctx, c)()
	if in != nil {
		// Not part of Wait: a client that never closes stdin must not keep a
		// finished command's session open. EOF on stdin closes the pipe.
		go func() {
			_, _ = io.Copy(in, stdin)
			_ = in.Close()
		}()
	}
	return c.Wait()
}

func runWithTerminal(ctx context.Context, c *exec.Cmd, stdin io.Reader, stdout io.Writer,
	resize <-chan remotecommand.TerminalSize) error {
	// pty.Start makes the command a session leader with the terminal as its
	// controlling terminal; stderr goes to the terminal too, as with a TTY.
	terminal, err := pty.Start(c)
	if err != nil {
		return err
	}
	defer terminal.Close()
	defer stopOnCancel(ctx, c)()
	if resize != nil {
		go func() {
			for size := range resize {
				_ = pty.Setsize(terminal, &pty.Winsize{Rows: size.Height, Cols: size.Width})
			}
		}()
	}
	if stdin != nil {
		go func() { _, _ = io.Copy(terminal, stdin) }()
	}
	var output sync.WaitGroup
	if stdout != nil {
		output.Add(1)
		go func() {
			defer output.Done()
			// Ends with EIO once the command and its children closed the terminal.
			_, _ = io.Copy(stdout, terminal)
		}()
	}
	waitErr := c.Wait()
	drained := make(chan struct{})
	go func() { output.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(outputDrainTimeout):
		killGroup(c)
	}
	return waitErr
}

// The commands running per pod, so deleting the pod or stopping the agent
// ends them: each exec runs under a context that forgetPod cancels.
type execs struct {
	mu      sync.Mutex
	running map[string]map[*context.CancelFunc]struct{}
}

func podKey(namespace, name string) string { return namespace + "/" + name }

// track returns a context for one exec in pod, ended by forgetPod or by
// the returned release (when the exec is over).
func (a *agent) track(ctx context.Context, pod *corev1.Pod) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	key := podKey(pod.Namespace, pod.Name)
	a.execs.mu.Lock()
	defer a.execs.mu.Unlock()
	if a.execs.running == nil {
		a.execs.running = map[string]map[*context.CancelFunc]struct{}{}
	}
	if a.execs.running[key] == nil {
		a.execs.running[key] = map[*context.CancelFunc]struct{}{}
	}
	a.execs.running[key][&cancel] = struct{}{}
	return ctx, func() {
		cancel()
		a.execs.mu.Lock()
		defer a.execs.mu.Unlock()
		delete(a.execs.running[key], &cancel)
	}
}

// forgetPod ends the commands still running in a pod that is going away.
func (a *agent) forgetPod(namespace, name string) {
	a.execs.mu.Lock()
	defer a.execs.mu.Unlock()
	for cancel := range a.execs.running[podKey(namespace, name)] {
		(*cancel)()
	}
	delete(a.execs.running, podKey(namespace, name))
}

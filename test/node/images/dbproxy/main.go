// dbproxy: a database proxy that shuts down the way cloud-sql-proxy v2 (2.14.1) does.
//
// The real proxy (GoogleCloudPlatform/cloud-sql-proxy, cmd/root.go and internal/proxy) listens on
// 127.0.0.1:<--port> and forwards each connection to the instance. On SIGTERM it waits
// --min-sigterm-delay ("the number of seconds to accept new connections after receiving a TERM signal.
// Defaults to 0s", added in 2.12.0, #2266), still accepting; then closes its listeners and waits up to
// --max-sigterm-delay ("maximum amount of time to wait for any open connections to close after receiving
// a TERM signal ... Defaults to 0s") for open connections, closes whatever is left and exits with 143
// (the SIGTERM exit code; --exit-zero-on-sigterm makes it 0). Every flag can also be set as an
// environment variable CSQL_PROXY_<FLAG> (CSQL_PROXY_MIN_SIGTERM_DELAY=30s). So by default: at SIGTERM
// the listener and all open connections close at once and the process exits.
//
// The instance connection name argument (project:region:instance) is accepted and logged; the upstream
// address is UPSTREAM (this test's database server), since no Cloud SQL API can be reached here.
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func durationFrom(name, value string) time.Duration {
	if value == "" {
		return 0
	}
	if d, err := time.ParseDuration(value); err == nil {
		return d
	}
	if n, err := strconv.Atoi(value); err == nil { // a bare number is seconds
		return time.Duration(n) * time.Second
	}
	log.Fatalf("invalid %s %q", name, value)
	return 0
}

func main() {
	fs := flag.NewFlagSet("cloud-sql-proxy", flag.ExitOnError)
	port := fs.Int("port", 5432, "initial port for listeners")
	address := fs.String("address", "127.0.0.1", "address for listeners")
	minDelay := fs.String("min-sigterm-delay", os.Getenv("CSQL_PROXY_MIN_SIGTERM_DELAY"), "accept new connections this long after TERM")
	maxDelay := fs.String("max-sigterm-delay", os.Getenv("CSQL_PROXY_MAX_SIGTERM_DELAY"), "wait this long for open connections after TERM")
	fs.Bool("structured-logs", false, "ignored")
	fs.Parse(os.Args[1:])
	upstream := os.Getenv("UPSTREAM")
	if upstream == "" {
		log.Fatal("UPSTREAM (the test database's host:port) is not set")
	}
	minWait := durationFrom("min-sigterm-delay", *minDelay)
	maxWait := durationFrom("max-sigterm-delay", *maxDelay)

	ln, err := net.Listen("tcp", net.JoinHostPort(*address, strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("Listening on %s for %s (upstream %s)", ln.Addr(), strings.Join(fs.Args(), ","), upstream)

	var mu sync.Mutex
	open := map[net.Conn]struct{}{}
	var wg sync.WaitGroup
	track := func(c net.Conn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		if add {
			open[c] = struct{}{}
		} else {
			delete(open, c)
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				u, err := net.DialTimeout("tcp", upstream, 2*time.Second)
				if err != nil {
					c.Close()
					return
				}
				track(c, true)
				track(u, true)
				done := make(chan struct{}, 2)
				go func() { io.Copy(u, c); done <- struct{}{} }()
				go func() { io.Copy(c, u); done <- struct{}{} }()
				<-done
				c.Close()
				u.Close()
				track(c, false)
				track(u, false)
			}()
		}
	}()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
	log.Printf("SIGTERM signal received. Shutting down (min-sigterm-delay %v, max-sigterm-delay %v)", minWait, maxWait)
	time.Sleep(minWait)
	ln.Close()
	idle := make(chan struct{})
	go func() { wg.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-time.After(maxWait):
	}
	mu.Lock()
	n := len(open)
	for c := range open {
		c.Close()
	}
	mu.Unlock()
	log.Printf("closed %d open connections; exiting", n/2)
	os.Exit(143)
}

// app: the seeds' HTTP service. Every request is one round trip to the database through the proxy on
// localhost (DB_ADDR, default 127.0.0.1:5432), over a small pool of kept-alive connections, like
// database/sql does. A broken pooled connection fails the request (500), as it would in the field.
//
// At SIGTERM, SHUTDOWN=graceful (the default) does what a Go server with http.Server.Shutdown does:
// stop accepting, finish in-flight requests (up to DRAIN_SECONDS), exit 0. SHUTDOWN=immediate exits at
// once, dropping in-flight requests. STARTUP_MS delays listening, as warming a real service does.
// JOB_QUERIES=n runs n queries and exits 0 instead of serving (the Job scenario).
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

type pool struct {
	addr string
	mu   sync.Mutex
	idle []*dbConn
}

type dbConn struct {
	c net.Conn
	r *bufio.Reader
}

func (p *pool) get() (*dbConn, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c, err := net.DialTimeout("tcp", p.addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return &dbConn{c: c, r: bufio.NewReader(c)}, nil
}

func (p *pool) put(c *dbConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) < 8 {
		p.idle = append(p.idle, c)
		return
	}
	c.c.Close()
}

// query sends one line and reads one line back: the round trip every request makes.
func (p *pool) query(q string) (string, error) {
	c, err := p.get()
	if err != nil {
		return "", err
	}
	c.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c.c, "%s\n", q); err != nil {
		c.c.Close()
		return "", err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.c.Close()
		return "", err
	}
	p.put(c)
	return line, nil
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func main() {
	addr := os.Getenv("DB_ADDR")
	if addr == "" {
		addr = "127.0.0.1:5432"
	}
	listen := os.Getenv("LISTEN")
	if listen == "" {
		listen = ":8080"
	}
	db := &pool{addr: addr}
	host, _ := os.Hostname()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	if n := envInt("JOB_QUERIES", 0); n > 0 {
		// Job mode: a batch task that runs its queries and exits, leaving the proxy behind. Like a real
		// client it retries its first connection for a while (the sidecar may not listen yet).
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			if _, err := db.query("SELECT 1"); err == nil {
				break
			} else if time.Now().After(deadline) {
				log.Fatalf("database not reachable: %v", err)
			}
		}
		for i := 1; i < n; i++ {
			if _, err := db.query("SELECT 1"); err != nil {
				log.Fatalf("query %d: %v", i, err)
			}
		}
		log.Printf("job done: %d queries", n)
		return
	}
	time.Sleep(time.Duration(envInt("STARTUP_MS", 0)) * time.Millisecond)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		row, err := db.query("SELECT 1")
		if err != nil {
			http.Error(w, "database: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%s %s", host, row)
	})
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("app %s listening on %s, database via %s", host, listen, addr)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()

	sig := <-sigs
	if os.Getenv("SHUTDOWN") == "immediate" {
		log.Printf("%v: exiting at once", sig)
		os.Exit(0)
	}
	log.Printf("%v: draining", sig)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(envInt("DRAIN_SECONDS", 25))*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Printf("drain: %v", err)
	}
	log.Printf("drained, exiting")
}

// dbserver: a small line-protocol database server. Each line is a query; after QUERY_MS it answers one
// line. It serves until SIGTERM, then exits at once (a server that never finishes by itself: the seed
// that puts a database in initContainers keeps the Pod in Init forever).
//
// --require-env=NAME[|NAME...] makes it behave like the official postgres image's entrypoint: without
// one of those variables (or POSTGRES_HOST_AUTH_METHOD=trust) it prints the entrypoint's error and
// exits 1, so the container crash-loops.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", ":5432", "address to listen on")
	requireEnv := flag.String("require-env", "", "exit 1 unless one of these variables is set")
	flag.Parse()
	if *requireEnv != "" && os.Getenv("POSTGRES_HOST_AUTH_METHOD") != "trust" {
		found := false
		for _, name := range strings.Split(*requireEnv, "|") {
			if os.Getenv(name) != "" {
				found = true
			}
		}
		if !found {
			fmt.Fprintln(os.Stderr, "Error: Database is uninitialized and superuser password is not specified.")
			fmt.Fprintln(os.Stderr, "       You must specify POSTGRES_PASSWORD to a non-empty value for the superuser.")
			os.Exit(1)
		}
	}
	delay := 20 * time.Millisecond
	if v, err := strconv.Atoi(os.Getenv("QUERY_MS")); err == nil {
		delay = time.Duration(v) * time.Millisecond
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("database listening on %s (query time %v)", ln.Addr(), delay)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					time.Sleep(delay)
					if _, err := c.Write([]byte("1\n")); err != nil {
						return
					}
				}
			}()
		}
	}()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
	log.Print("shutting down")
}

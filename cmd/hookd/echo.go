package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
)

// echo is a tiny receiver for trying hookd out: it prints every request it
// gets and answers 200. Usage: hookd echo [addr] (default 127.0.0.1:9000).
func echo(args []string) {
	addr := "127.0.0.1:9000"
	if len(args) > 0 {
		addr = args[0]
	}
	fmt.Printf("hookd echo: printing every request to http://%s\n", addr)
	err := http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var names []string
		for k := range r.Header {
			names = append(names, k)
		}
		sort.Strings(names)
		fmt.Printf("%s %s\n", r.Method, r.URL.Path)
		for _, k := range names {
			fmt.Printf("  %s: %s\n", k, strings.Join(r.Header[k], ", "))
		}
		fmt.Printf("  %s\n\n", body)
		w.WriteHeader(http.StatusOK)
	}))
	fmt.Fprintln(os.Stderr, "hookd echo:", err)
	os.Exit(1)
}

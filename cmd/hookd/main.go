// Command hookd delivers webhooks. Subcommands:
//
//	hookd dev     everything in one process: embedded Temporal (with its UI), worker, API, SQLite
//	hookd api     the REST API, against HOOKD_TEMPORAL_ADDRESS and HOOKD_DATABASE_URL
//	hookd worker  the Temporal worker that makes the deliveries
//	hookd echo    a receiver that prints what it gets, for trying hookd out
//
// Settings come from the environment; see `hookd help`.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/config"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] == "help" || os.Args[1] == "-h" || os.Args[1] == "--help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	if os.Args[1] == "echo" {
		echo(os.Args[2:])
		return
	}
	mode := config.Mode(os.Args[1])
	cfg, err := config.FromEnvironment(mode)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hookd: %v\n", err)
		os.Exit(2)
	}
	log := newLogger(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := app.Start(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hookd %s: %v\n", mode, err)
		os.Exit(1)
	}
	announce(a)
	select {
	case <-ctx.Done():
	case err := <-a.Served():
		log.Error("api server stopped", "error", err)
	}
	log.Info("shutting down")
	a.Stop(context.Background())
}

func announce(a *app.App) {
	c := a.Config
	fmt.Printf("hookd %s is running\n", c.Mode)
	if a.APIURL != "" {
		fmt.Printf("  API          %s\n", a.APIURL)
	}
	if a.GeneratedAPIKey != "" {
		how := "generated now; kept in"
		if !a.NewAPIKey {
			how = "read from"
		}
		fmt.Printf("  API key      %s   (%s %s/api-key)\n", a.GeneratedAPIKey, how, c.DataDir)
	}
	if a.DashboardURL != "" {
		fmt.Printf("  Dashboard    %s   (sign in with the API key)\n", a.DashboardURL)
	}
	fmt.Printf("  Temporal     %s (namespace %s)\n", c.TemporalAddress, c.TemporalNamespace)
	if a.Dev != nil && a.Dev.UIURL() != "" {
		fmt.Printf("  Temporal UI  %s\n", a.Dev.UIURL())
	}
	if c.Mode == config.ModeDev {
		fmt.Printf("  Data         %s\n", c.DataDir)
	}
	fmt.Println("Ctrl-C stops it.")
}

func newLogger(c config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: hookd dev | api | worker | echo [addr]")
	fmt.Fprintln(os.Stderr, "\nsettings (environment):")
	fmt.Fprint(os.Stderr, config.Usage())
}

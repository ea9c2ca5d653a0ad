// Command ferretdb runs an embedded FerretDB (MongoDB wire protocol) for local development and
// tests, where a real mongod cannot be installed. Storage is PostgreSQL (-postgresql-url, what
// scripts/stack starts) or, as an explicit opt-in, SQLite files (-sqlite-dir): FerretDB 1.24 on
// SQLite does not use secondary indexes for our queries, so its cost grows with history.
//
// FerretDB's own cmd cannot be `go install`ed (its build/version/version.txt is generated and not
// in the module zip); embedding the library package avoids that check.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	pgURL := flag.String("postgresql-url", "", "PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5433/ferretdb (the database must exist)")
	dir := flag.String("sqlite-dir", "", "directory for SQLite database files (only without -postgresql-url)")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn, error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	config := &ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: *listen}, Logger: logger}
	switch {
	case *pgURL != "" && *dir != "":
		fmt.Fprintln(os.Stderr, "ferretdb: give -postgresql-url or -sqlite-dir, not both")
		os.Exit(2)
	case *pgURL != "":
		// "postgresql" is the 1.x handler name ("pg" is its deprecated alias).
		config.Handler = "postgresql"
		config.PostgreSQLURL = *pgURL
	case *dir != "":
		abs, err := filepath.Abs(*dir)
		if err == nil {
			err = os.MkdirAll(abs, 0o755)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb: cannot use -sqlite-dir %q: %v\n", *dir, err)
			os.Exit(1)
		}
		config.Handler = "sqlite"
		config.SQLiteURL = "file:" + abs + "/"
	default:
		fmt.Fprintln(os.Stderr, "ferretdb: give -postgresql-url (or -sqlite-dir)")
		os.Exit(2)
	}

	f, err := ferretdb.New(config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	// Printed once the listener is up, so scripts can wait for this line.
	fmt.Printf("ferretdb listening: %s\n", f.MongoDBURI())
	<-done
}

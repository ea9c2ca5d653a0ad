// The local servers (Temporal dev server, the database, Mailpit) as child processes, shared by
// `make start` (scripts/start.ts), the jest global setup and the benchmarks, so all of them wait
// for readiness and shut down the same way. Two layers:
//   stack/supervise.ts  generic: tools, ports, logged child processes, readiness, pid file
//   stack/servers.ts    recipes: how each server starts, what "ready" means, how it stops
//   stack/temporalServer.ts  the production Temporal server on PostgreSQL (docs/temporal.md)
export * from './stack/supervise';
export * from './stack/servers';
export * from './stack/temporalServer';

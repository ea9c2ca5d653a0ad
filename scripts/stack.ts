// The local servers (Temporal dev server, the database, Mailpit) as child processes, shared by
// `make start` (scripts/start.ts), the jest global setup and the benchmarks, so all of them wait
// for readiness and shut down the same way. Two layers:
//   stack/supervise.ts  generic: tools, ports, logged child processes, readiness, pid file
//   recipes, one file per server: how it starts, what "ready" means, how it stops:
//     stack/temporalDev.ts     the Temporal dev server (temporal server start-dev)
//     stack/database.ts        MONGODB_URI, mongod or FerretDB
//     stack/postgres.ts        PostgreSQL under FerretDB
//     stack/mailpit.ts         Mailpit
//     stack/temporalServer.ts  the production Temporal server on PostgreSQL (docs/temporal.md)
export * from './stack/supervise';
export * from './stack/temporalDev';
export * from './stack/database';
export * from './stack/postgres';
export * from './stack/mailpit';
export * from './stack/temporalServer';

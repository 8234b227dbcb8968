import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { startServer, type TestServer } from './harness.ts';

/** A TCP relay between Tessera and PostgreSQL that a test can cut, as a database host going away would. */
export class Relay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens (on the port it had, after a cut), relaying each connection to PostgreSQL. */
  async open(): Promise<number> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Refuses new connections and resets the open ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.resetAndDestroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

/** A test server on a database of its own that it reaches only through a Relay, so that a test can take PostgreSQL away. */
export interface ServerBehindRelay {
  server: TestServer;
  relay: Relay;
  close(): Promise<void>;
}

export async function startServerBehindRelay(baseUrl: string, name: string): Promise<ServerBehindRelay> {
  const dropDatabase = async () => {
    const admin = new pg.Client({ connectionString: baseUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    return admin;
  };
  const admin = await dropDatabase();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const base = new URL(baseUrl);
  const relay = new Relay({ host: base.hostname, port: Number(base.port || 5432) });
  const url = new URL(baseUrl);
  url.port = String(await relay.open());
  url.pathname = `/${name}`;
  const server = await startServer('postgresql', { env: { DATABASE_URL: url.toString() } });
  return {
    server,
    relay,
    async close() {
      await server.close();
      await relay.cut();
      await (await dropDatabase()).end();
    },
  };
}

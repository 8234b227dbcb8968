import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, cast, engines, startServer, type TestServer } from '../support/harness.ts';

describe.each(engines())('smoke on %s', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(async () => server?.close());

  it('serves viewer for the bootstrap secret and a minted token', async () => {
    const bootstrap = await server.graphql<{ viewer: { username: string; isAdmin: boolean } }>(BOOTSTRAP_TOKEN, '{ viewer { username isAdmin } }');
    expect(bootstrap.data?.viewer).toEqual({ username: '<bootstrap>', isAdmin: true });
    const people = await cast(server);
    const alice = await server.graphql<{ viewer: { username: string; isAdmin: boolean; tokenKey: string } }>(people.alice, '{ viewer { username isAdmin tokenKey } }');
    expect(alice.data?.viewer).toEqual({ username: 'alice', isAdmin: false, tokenKey: people.aliceKey });
  });
});

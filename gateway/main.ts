// Runs the gateway alone (docker-compose): `node dist/gateway/main.js`.
import { config } from '../platform/config';
import { runUntilSignal } from '../platform/lifecycle';
import { loggerFor } from '../platform/logger';
import { startConfiguredGateway } from './start-gateway';

runUntilSignal('gateway', async () => {
  const gateway = await startConfiguredGateway();
  loggerFor('gateway').info({ url: gateway.url }, 'gateway ready');
  return gateway;
}, () => config().SHUTDOWN_TIMEOUT_MS);

// Tests that need RabbitMQ run the product with its production names (`events`, `events.dlx`,
// `membership.*` queues) in a virtual host of their own on the shared broker, made fresh for the
// test file and deleted with everything in it when the file ends (test/support/rabbit-vhost.ts).
import { createTestVhost, type TestVhost } from './rabbit-vhost';

export { BROKER_URL, createTestVhost, urlForVhost, type TestVhost } from './rabbit-vhost';

export interface FileVhost {
  /** RABBITMQ_URL for this file's vhost (valid from beforeAll on). */
  readonly url: string;
  readonly name: string;
  /** Delete the vhost and everything in it: the last step of the file's afterAll, once the product is closed. */
  delete(): Promise<void>;
}

/**
 * A vhost for this test file, created in a beforeAll. The file deletes it at the end of its own
 * afterAll (Jest runs afterAll hooks in the order they are declared, so a hook registered here
 * would run before the file has closed what uses the vhost). Fails, never skips, when the broker
 * does not answer.
 */
export function useTestVhost(label: string): FileVhost {
  let vhost: TestVhost | null = null;
  beforeAll(async () => {
    vhost = await createTestVhost(label);
  });
  const current = (): TestVhost => {
    if (!vhost) throw new Error('The test vhost exists only from beforeAll on.');
    return vhost;
  };
  return {
    get url() {
      return current().url;
    },
    get name() {
      return current().name;
    },
    delete: async () => {
      await vhost?.delete();
    },
  };
}

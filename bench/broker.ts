// Each benchmark that uses RabbitMQ runs the product with its production names in a fresh virtual
// host of the shared broker, deleted (with every queue and message in it) when the run ends or is
// interrupted: nothing a run declares is left to collect later events.
import { createTestVhost } from '../test/support/rabbit-vhost';

export async function onFreshVhost<T>(label: string, run: (rabbitmqUrl: string) => Promise<T>): Promise<T> {
  const vhost = await createTestVhost(`bench-${label}`);
  const interrupted = () => {
    console.error(`interrupted: deleting this run's RabbitMQ vhost ${vhost.name}`);
    void vhost.delete().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await run(vhost.url);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await vhost.delete();
  }
}

// The product as a child process of a benchmark (bench/subscription-product.ts): waiting for its
// ready message, and stopping it.
import type { ChildProcess } from 'node:child_process';
import type { ProductReady } from './subscription-product';

/** The product child's ready message (its exit before it is a failure, bounded). */
export function productReady(child: ChildProcess): Promise<ProductReady> {
  return new Promise<ProductReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the product did not start within 120 s')), 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the product exited with ${code} before it was ready`));
    });
    child.on('message', (message: Partial<ProductReady>) => {
      if (message?.type !== 'bench:product-ready') return;
      clearTimeout(timer);
      resolve(message as ProductReady);
    });
  });
}

/** Ask the product to stop (it closes its workers and servers), killing it if it hangs. */
export async function stopProduct(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

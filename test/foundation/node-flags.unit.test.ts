// The gateway's V8 flags are V8 options, not Node's: a Node upgrade whose V8 dropped one would make
// `npm start`, the image and compose fail at once with "bad option". This runs this Node with them.
import { spawnSync } from 'node:child_process';
import { NODE_FLAGS } from '../../platform/node-flags';

describe('the gateway V8 flags', () => {
  it('are accepted by this Node', () => {
    const run = spawnSync(process.execPath, [...NODE_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ status: 0, stdout: 'ok', stderr: '' });
  });

  it('are checked: an option this Node does not know fails the run', () => {
    const run = spawnSync(process.execPath, ['--heap-growing-percentage=100', '-e', '0'], { encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('bad option');
  });
});

/** kube-scheduler for the real node: admin kubeconfig, no leader election, serving on 127.0.0.1 only. */
import { connect } from 'node:net';
import { join } from 'node:path';
import type { ControlPlane } from './controlPlane.js';
import { ManagedProcess, freePort, waitFor } from './processes.js';

export interface Scheduler {
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export async function startScheduler(o: { binDir: string; cp: ControlPlane; log?: (msg: string) => void }): Promise<Scheduler> {
  const port = await freePort();
  o.log?.('starting kube-scheduler');
  const proc = new ManagedProcess(
    'kube-scheduler',
    join(o.binDir, 'kube-scheduler'),
    [`--kubeconfig=${o.cp.kubeconfigPath}`, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${port}`, '--v=1'],
    { logPath: join(o.cp.dir, 'kube-scheduler.log'), cwd: o.cp.dir },
  );
  try {
    // Serving on its port means its informers are set up and it is scheduling.
    await waitFor(
      'kube-scheduler to listen',
      () =>
        new Promise<true | undefined>((resolve) => {
          const s = connect(port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(undefined));
        }),
      { timeoutMs: 60_000, intervalMs: 500, watch: [proc] },
    );
  } catch (err) {
    await proc.stop();
    throw new Error(`kube-scheduler failed to start: ${(err as Error).message}\n${proc.logTail(30)}`, { cause: err });
  }
  return { process: proc, stop: async () => void (await proc.stop()) };
}

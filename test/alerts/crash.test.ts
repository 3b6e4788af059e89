import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openDeliveries } from '../../store/deliveries.js';
import { Store } from '../../store/store.js';
import { tempStore } from './helpers.js';
import { SLACK, startSlack } from './peers.js';

const DRIVER = fileURLToPath(new URL('./crash-driver.ts', import.meta.url));
const N = 20;

let hook: Awaited<ReturnType<typeof startSlack>>;
let tmp: ReturnType<typeof tempStore>;
beforeEach(async () => {
  hook = await startSlack('crash/hook', { anyJson: true });
  tmp = tempStore();
  tmp.store.close(); // the child processes own the file
});
afterEach(async () => {
  await hook.close();
  tmp.cleanup();
});

function run(phase: 'enqueue' | 'resume'): {
  child: ChildProcess;
  exit: Promise<number | null>;
  out: () => string;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', DRIVER, tmp.path, hook.url, phase, String(N)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  child.stderr!.on('data', (d) => {
    out += String(d);
  });
  return { child, exit: once(child, 'exit').then(([code]) => code as number | null), out: () => out };
}

it('kill -9 during delivery, then a restart: each alert reaches the sink exactly once', async () => {
  const KILL_AT = 7; // the 8th request is in flight, unanswered, when the process dies
  let killed!: () => void;
  const inFlight = new Promise<void>((r) => {
    killed = r;
  });
  hook.state.answer = (n) => (n === KILL_AT ? { ...SLACK.ok, hang: true } : SLACK.ok);
  hook.state.onRequest = () => {
    if (hook.received.length === KILL_AT + 1) killed();
  };
  const first = run('enqueue');
  await inFlight;
  first.child.kill('SIGKILL');
  const [, signal] = await once(first.child, 'exit');
  expect(signal).toBe('SIGKILL');
  expect(hook.received).toHaveLength(KILL_AT + 1);

  hook.state.answer = () => SLACK.ok;
  const second = run('resume');
  expect(await second.exit).toBe(0);

  const ackedIds = hook.received
    .filter((r) => r.acked)
    .map((r) => (r.payload as unknown as { alerts: { id: string }[] }).alerts[0]!.id);
  expect(ackedIds).toHaveLength(N);
  expect(new Set(ackedIds).size).toBe(N);
  // The one that was in flight was sent again, since the sink had not acknowledged it.
  const inflightId = (hook.received[KILL_AT]!.payload as unknown as { alerts: { id: string }[] }).alerts[0]!
    .id;
  expect(
    hook.received.filter(
      (r) => (r.payload as unknown as { alerts: { id: string }[] }).alerts[0]!.id === inflightId,
    ),
  ).toHaveLength(2);
  const store = Store.open(tmp.path);
  try {
    expect(openDeliveries(store).counts().hook).toEqual({ pending: 0, delivered: N, dead: 0 });
  } finally {
    store.close();
  }
}, 60_000);

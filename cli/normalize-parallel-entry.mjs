// Worker threads do not inherit the main thread's module hooks: register tsx here, then run the worker.
import { register } from 'tsx/esm/api';

register();
await import('./normalize-parallel-worker.ts');

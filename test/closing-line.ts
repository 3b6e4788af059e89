import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends a run with the plain line `vitest: N passed, N failed, N skipped`, which CI reads to count the
 * tests a submission ran. Each failed test is named on a line just before it, so the end of a long
 * log says which test failed (a rare failure is otherwise lost with the scrollback).
 */
export default class ClosingLine implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let skipped = 0;
    const failed: string[] = [];
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed.push(`${relative(process.cwd(), m.moduleId)} > ${t.fullName}`);
        else skipped++;
      }
    }
    for (const name of failed) process.stdout.write(`\nvitest failed: ${name}`);
    process.stdout.write(`\nvitest: ${passed} passed, ${failed.length} failed, ${skipped} skipped\n`);
  }
}

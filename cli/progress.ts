import type { Io } from './command.js';

/**
 * Progress over many input files: a line updated in place on a terminal, a plain line every 1,000
 * files (and at most every 10 s) otherwise, so long backfills show they are alive in logs too.
 */
export function progressReporter(io: Io, label: string): (file: string, index: number) => void {
  let lastPlain = io.clock.now();
  const start = lastPlain;
  return (file, index) => {
    const now = io.clock.now();
    if (io.interactive) {
      if (index % 20 === 0) {
        const name = file.length > 60 ? `…${file.slice(-59)}` : file;
        io.stderr.write(
          `\r\u001b[2K${label}: ${index + 1} files (${Math.round((now - start) / 1000)}s) ${name}`,
        );
      }
      return;
    }
    if (index > 0 && (index % 1000 === 0 || now - lastPlain >= 10_000)) {
      lastPlain = now;
      io.stderr.write(`vigil ${label}: ${index} files read (${Math.round((now - start) / 1000)}s)\n`);
    }
  };
}

/** Clears an in-place progress line. */
export function endProgress(io: Io): void {
  if (io.interactive) io.stderr.write('\r\u001b[2K');
}

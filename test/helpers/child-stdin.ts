/*
 * For child processes of crash tests: the parent sends one line on stdin when it wants the
 * child to start (so children can be started early and wait), and closes stdin when it is gone.
 */

/** The first line on stdin; when stdin closes (the parent is gone) the process exits. */
export function firstLine(): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => {
      got += d;
      if (got.includes('\n')) resolve(got.slice(0, got.indexOf('\n')));
    });
    process.stdin.on('end', () => process.exit(3));
  });
}
